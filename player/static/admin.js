/* The operator's page: flagged videos (take down, dismiss) and pending payouts (paid, reject).
 *
 * Every call goes to the tracker's operator API (/api/v1/admin/...) with the bearer token the operator
 * typed in. It is kept in sessionStorage only: a cookie would be sent by the browser on requests other
 * sites make it send, and would outlive the tab. */
(function () {
  "use strict";
  const {api, el, formatDate, setStatus} = window.SlipstreamSite;
  const KEY = "slipstream.adminToken";
  const login = document.getElementById("admin-login");
  const tokenInput = document.getElementById("admin-token");
  const forget = document.getElementById("admin-forget");
  const status = document.getElementById("admin-status");
  const panels = document.getElementById("admin-panels");

  function call(path, body) {
    const headers = {"Authorization": "Bearer " + sessionStorage.getItem(KEY)};
    if (body === undefined) return api(path, {headers});
    return api(path, {method: "POST", headers: {...headers, "Content-Type": "application/json"},
                      body: JSON.stringify(body)});
  }

  /* Run operator calls ([path, body] each, in order) from `button`, then show the lists again; a refusal
   * is shown, not thrown. */
  async function act(button, calls, done) {
    button.disabled = true;
    try {
      for (const [path, body] of calls) await call(path, body);
      setStatus(status, done, "ok");
      await refresh();
    } catch (err) {
      setStatus(status, err.message, "error");
      button.disabled = false;
    }
  }

  function flagItem(video) {
    const reasons = Object.entries(video.reasons).filter(([, n]) => n).map(([r, n]) => r + " × " + n).join(", ");
    const reason = el("input", {type: "text", class: "admin-reason", maxlength: 500, "aria-label": "Reason",
                                placeholder: "reason (shown in the takedown record)"});
    const takeDown = el("button", {type: "button", class: "danger", "data-action": "takedown"}, "Take down");
    const dismiss = el("button", {type: "button", "data-action": "dismiss"}, "Dismiss");
    const closeFlags = [`/api/v1/admin/flags/${video.video_id}/dismiss`, {}];
    // A video taken down cannot be flagged again, so its open flags are dealt with: closed with it.
    takeDown.addEventListener("click", () => act(takeDown, [
      ["/api/v1/admin/takedowns", {video_id: video.video_id, reason: reason.value.trim() || "flagged: " + reasons}],
      closeFlags], "Taken down."));
    dismiss.addEventListener("click", () => act(dismiss, [closeFlags], "Flags dismissed."));
    return el("li", {class: "admin-item", "data-video-id": video.video_id}, [
      el("a", {href: "/watch/" + video.video_id, class: "card-title"}, video.title || video.video_id),
      el("p", {class: "card-meta"}, [video.flags + (video.flags === 1 ? " flag" : " flags"), " · ", reasons,
                                      " · last ", formatDate(video.latest)]),
      el("ul", {class: "admin-notes"}, video.notes.map((note) => el("li", {}, note))),
      el("div", {class: "admin-actions"}, [reason, takeDown, dismiss]),
    ]);
  }

  /* Minor units as the operator reads them: 300 EUR → "€3.00" (Intl knows each currency's exponent). */
  function money(amount, currency) {
    const format = new Intl.NumberFormat(undefined, {style: "currency", currency});
    return format.format(amount / 10 ** format.resolvedOptions().maximumFractionDigits);
  }

  function payoutItem(payout) {
    const note = el("input", {type: "text", class: "admin-note", maxlength: 500, required: true,
                              "aria-label": "Reference or reason",
                              placeholder: "transfer reference (paid) or reason (reject)"});
    const paid = el("button", {type: "button", class: "primary", "data-action": "paid"}, "Mark paid");
    const reject = el("button", {type: "button", class: "danger", "data-action": "reject"}, "Reject");
    const decide = (button, state, field) => {
      if (!note.value.trim()) {
        setStatus(status, "Write the " + field + " first.", "error");
        note.focus();
        return;
      }
      act(button, [["/api/v1/admin/payouts/" + payout.payout, {state, [field]: note.value.trim()}]],
          state === "paid" ? "Marked paid." : "Rejected; the amount went back.");
    };
    paid.addEventListener("click", () => decide(paid, "paid", "reference"));
    reject.addEventListener("click", () => decide(reject, "rejected", "reason"));
    return el("li", {class: "admin-item", "data-payout": payout.payout}, [
      el("p", {class: "card-title"}, [money(payout.amount, payout.currency), " to ",
                                      el("code", {}, payout.destination)]),
      el("p", {class: "card-meta"}, [payout.account, " · asked ", formatDate(payout.created)]),
      el("div", {class: "admin-actions"}, [note, paid, reject]),
    ]);
  }

  function show(list, empty, items) {
    list.replaceChildren(...items);
    empty.hidden = items.length > 0;
  }

  async function refresh() {
    const [flags, payouts] = await Promise.all([
      call("/api/v1/admin/flags"), call("/api/v1/admin/payouts?state=pending")]);
    show(document.getElementById("flags"), document.getElementById("flags-empty"), flags.videos.map(flagItem));
    show(document.getElementById("payouts"), document.getElementById("payouts-empty"),
         payouts.payouts.map(payoutItem));
    panels.hidden = false;
    forget.hidden = false;
    document.body.dataset.adminReady = "true";
  }

  async function open() {
    try {
      await refresh();
    } catch (err) {
      panels.hidden = true;
      if (err.status === 401 || err.status === 403) sessionStorage.removeItem(KEY);
      setStatus(status, err.message, "error");
    }
  }

  login.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, tokenInput.value.trim());
    tokenInput.value = "";
    setStatus(status, "");
    open();
  });
  forget.addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    panels.hidden = true;
    forget.hidden = true;
    delete document.body.dataset.adminReady;
  });
  if (sessionStorage.getItem(KEY)) open();
})();
