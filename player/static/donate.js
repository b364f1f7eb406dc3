/* Watch page: the donate form.
 *
 * The split shown is the tracker's own answer (GET /api/v1/donations/split), so the page never
 * re-implements the ledger's arithmetic. A gift is posted under an Idempotency-Key made when it is
 * first sent and kept, with the exact body, until the tracker answers: a double click or a retry
 * after a lost answer replays the same request, and the tracker records it once. The bytes each
 * edge served and the tracker that found them come from the player (window.slipstreamPlayer).
 *
 * The gift goes to the ledger of the tracker that found the edges: when our tracker asked a peer
 * (federated lookup), only that peer knows the video's creator and its edges, so only its ledger
 * can check and split the gift. Without a player answer yet, it goes to this site's tracker.
 */
(function () {
  "use strict";
  const {api, el, setStatus, trackerUrl, minorUnits, formatMoney: format} = window.SlipstreamSite;
  const form = document.getElementById("donate-form");
  if (!form) return;
  // The watch page's video; on a channel page, the channel's newest video (channel.js sets it), so
  // the gift credits the channel's account like any gift to one of its videos.
  const videoIdOf = () => form.dataset.videoId || document.querySelector(".watch").dataset.videoId;
  const amountInput = document.getElementById("donate-amount");
  const currencySelect = document.getElementById("donate-currency");
  const splitList = document.getElementById("donate-split");
  const status = document.getElementById("donate-status");
  const submit = document.getElementById("donate-submit");
  const NODE_ID = /^[0-9a-f]{64}$/;
  let pending = null;   // {key, body} of a gift sent but not yet answered
  let previewSeq = 0;   // answers to older previews are ignored

  function exponent() {
    return Number(currencySelect.selectedOptions[0].dataset.exponent);
  }

  /* What the player knows: bytes per edge (only signed edges have a node id) and the finding tracker. */
  function report() {
    const player = window.slipstreamPlayer;
    const served = {};
    for (const [node, bytes] of Object.entries((player && player.served) || {})) {
      if (NODE_ID.test(node) && bytes > 0) served[node] = Math.floor(bytes);
    }
    return {served: served, found_by: (player && player.foundBy) || trackerUrl()};
  }

  function ledgerUrl() {
    const player = window.slipstreamPlayer;
    return ((player && player.foundBy) || trackerUrl()).replace(/\/+$/, "");
  }

  function gift() {
    const amount = minorUnits(amountInput.value, exponent());
    return amount && Object.assign({video_id: videoIdOf(), amount: amount, currency: currencySelect.value}, report());
  }

  function describe(account) {
    const [kind, name] = [account.slice(0, account.indexOf(":")), account.slice(account.indexOf(":") + 1)];
    if (kind === "creator") return ["Creator ", el("strong", {}, name)];
    if (kind === "channel") return ["Channel ", el("code", {title: name}, name.slice(0, 12) + "…")];
    if (kind === "node") return ["Edge ", el("code", {title: name}, name.slice(0, 12) + "…")];
    return ["Tracker that found the edges ", el("code", {title: name}, /^https?:/.test(name) ? new URL(name).host
      : name.slice(0, 12) + "…")];
  }

  function showSplit(postings, currency) {
    const exp = exponent();
    splitList.replaceChildren(...postings.filter((p) => p.amount > 0).map((p) =>
      el("li", {"data-account": p.account, "data-amount": p.amount},
        [el("span", {class: "donate-share"}, format(p.amount, currency, exp)), " → ", ...describe(p.account)])));
  }

  async function preview() {
    const seq = ++previewSeq;
    const wanted = gift();
    if (!wanted) {
      splitList.replaceChildren();
      setStatus(status, amountInput.value.trim() ? "Enter an amount like 5 or 2.50." : "", "error");
      return;
    }
    const query = new URLSearchParams({video_id: videoIdOf(), amount: wanted.amount, currency: wanted.currency,
      found_by: wanted.found_by,
      served: Object.entries(wanted.served).map(([node, bytes]) => node + ":" + bytes).join(",")});
    try {
      const answer = await api(ledgerUrl() + "/api/v1/donations/split?" + query);
      if (seq !== previewSeq) return;
      showSplit(answer.postings, answer.currency);
      setStatus(status, Object.keys(wanted.served).length ? ""
        : "No edge has streamed to you yet, so the edges' share goes to the creator.", "");
    } catch (err) {
      if (seq !== previewSeq) return;
      splitList.replaceChildren();
      setStatus(status, err.message, "error");
    }
  }

  function newKey() {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    // randomUUID needs a secure context; getRandomValues works on plain-http LAN sites too.
    return Array.from(window.crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function donate(event) {
    event.preventDefault();
    if (!pending) {
      const body = gift();
      if (!body) return preview();
      pending = {key: newKey(), body: body, url: ledgerUrl() + "/api/v1/donations"};
    }
    submit.disabled = true;
    setStatus(status, "Sending your gift…", "");
    try {
      const answer = await api(pending.url, {
        method: "POST",
        headers: {"Content-Type": "application/json", "Idempotency-Key": pending.key},
        body: JSON.stringify(pending.body),
      });
      showSplit(answer.postings, pending.body.currency);
      form.dataset.donation = answer.donation;
      setStatus(status, "Thank you! " + format(pending.body.amount, pending.body.currency, exponent())
        + " was shared as shown.", "ok");
      pending = null;
    } catch (err) {
      // Unreachable or a server error: keep the key, so pressing again cannot give twice.
      const retry = err.status === 0 || err.status >= 500;
      if (!retry) pending = null;
      setStatus(status, err.message + (retry ? " Press Donate again to retry; it will count once." : ""), "error");
    } finally {
      submit.disabled = false;
    }
  }

  function changed() {
    pending = null;  // another gift: a new key
    delete form.dataset.donation;
    preview();
  }

  amountInput.addEventListener("input", changed);
  currencySelect.addEventListener("change", changed);
  form.closest("details").addEventListener("toggle", (event) => { if (event.target.open) preview(); });
  form.addEventListener("submit", donate);
})();
