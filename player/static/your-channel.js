/* "Your channel": the key holder's page. The key is made, backed up and imported here
 * (channel-key.js); every change (name, a video's title, description or visibility, a deletion, a
 * payout) is a document signed in this browser and sent to the tracker. */
(function () {
  "use strict";
  const {api, el, setStatus, minorUnits, formatMoney, formatDate} = window.SlipstreamSite;
  const {SlipstreamChannel} = window;
  const EXPONENTS = {JPY: 0};  // minor-unit digits where not 2
  const keyStatus = document.getElementById("key-status");
  let key = null;

  const exponentOf = (currency) => (currency in EXPONENTS ? EXPONENTS[currency] : 2);

  /* A signed request to the tracker: POST, PATCH or DELETE with the document of `action` as its JSON body. */
  async function signed(method, path, action, fields) {
    return api(path, {
      method,
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(await SlipstreamChannel.sign(action, fields, key)),
    });
  }

  function showKey() {
    document.getElementById("key-none").hidden = Boolean(key);
    document.getElementById("key-present").hidden = !key;
    document.getElementById("channel-owned").hidden = !key;
    if (!key) return;
    document.getElementById("key-channel").textContent = key.channel;
    document.getElementById("key-public").href = "/c/" + key.channel;
    document.getElementById("account-name").textContent = "channel:" + key.channel;
    loadProfile();
    loadVideos();
    loadAccount();
  }

  async function createKey() {
    key = await SlipstreamChannel.create();
    setStatus(keyStatus, "Your channel key was made. Download its back-up now, then give the channel a name.", "ok");
    showKey();
  }

  async function exportKey() {
    const file = await SlipstreamChannel.exportFile();
    const link = el("a", {href: URL.createObjectURL(file.blob), download: file.name});
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    setStatus(keyStatus, "Saved " + file.name + ". Keep it private: it is your channel.", "ok");
  }

  async function importKey(event) {
    const file = event.target.files[0];
    if (!file) return;
    if (key && !confirm("Replace this browser's channel key? Without a back-up of it, that channel is lost.")) {
      event.target.value = "";
      return;
    }
    try {
      key = await SlipstreamChannel.importFile(await file.text());
      setStatus(keyStatus, "Key imported: this browser now acts as channel " + key.channel.slice(0, 16) + "….", "ok");
      showKey();
    } catch (err) {
      setStatus(keyStatus, err.message, "error");
    } finally {
      event.target.value = "";
    }
  }

  async function loadProfile() {
    const form = document.getElementById("profile-form");
    try {
      const channel = await api("/api/v1/channels/" + key.channel);
      form.elements.name.value = channel.name || "";
      form.elements.description.value = channel.description || "";
    } catch (err) {
      if (err.status !== 404) setStatus(document.getElementById("profile-status"), err.message, "error");
    }
  }

  async function saveProfile(event) {
    event.preventDefault();
    const form = event.target;
    const status = document.getElementById("profile-status");
    const name = form.elements.name.value.trim();
    if (!name) return form.reportValidity();
    try {
      await signed("POST", "/api/v1/channels", "channel", {name, description: form.elements.description.value.trim()});
      setStatus(status, "Saved.", "ok");
    } catch (err) {
      setStatus(status, "Not saved: " + err.message, "error");
    }
  }

  /* Every video of the channel on this tracker, unlisted ones too: the owner's listing, signed by the
   * key (so it works in any browser the key is imported into), page after page up to its total. */
  async function loadVideos() {
    const status = document.getElementById("videos-status");
    const videos = [];
    try {
      for (let page = 1; ; page++) {
        const answer = await signed("POST", "/api/v1/channels/" + key.channel + "/videos", "list", {page});
        videos.push(...answer.videos);
        // Bounded: an empty page ends it too, should videos be deleted while paging.
        if (!answer.videos.length || videos.length >= answer.total) break;
      }
    } catch (err) {
      setStatus(status, "Your videos could not be listed: " + err.message, "error");
      return;
    }
    document.getElementById("my-videos").replaceChildren(...videos.map(videoItem));
    setStatus(status, videos.length ? videos.length + (videos.length === 1 ? " video" : " videos")
      : "No videos yet: upload one while this browser holds the key.");
  }

  function videoItem(video) {
    const id = "video-" + video.id;
    const visibility = el("select", {name: "visibility", id: id + "-visibility"}, [
      el("option", {value: "public", selected: video.visibility !== "unlisted"}, "Public"),
      el("option", {value: "unlisted", selected: video.visibility === "unlisted"}, "Unlisted"),
    ]);
    const status = el("p", {class: "status", role: "status", "aria-live": "polite", hidden: true});
    const form = el("form", {class: "video-edit", "data-video-id": video.id}, [
      el("p", {}, [el("a", {href: "/watch/" + video.id}, video.title || "Untitled"), " · ",
        el("span", {class: "video-visibility"}, video.visibility || "public"), " · ", formatDate(video.created)]),
      el("div", {class: "field"}, [el("label", {for: id + "-title"}, "Title"),
        el("input", {id: id + "-title", name: "title", type: "text", maxlength: 200, required: true, value: video.title || ""})]),
      el("div", {class: "field"}, [el("label", {for: id + "-description"}, "Description"),
        el("textarea", {id: id + "-description", name: "description", rows: 2, maxlength: 5000}, video.description || "")]),
      el("div", {class: "field"}, [el("label", {for: id + "-visibility"}, "Visibility"), visibility]),
      el("button", {type: "submit", class: "primary"}, "Save"), " ",
      el("button", {type: "button", class: "danger", "data-action": "delete"}, "Delete"),
      status,
    ]);
    form.addEventListener("submit", (event) => editVideo(event, video, status));
    form.querySelector("[data-action=delete]").addEventListener("click", () => deleteVideo(video, form, status));
    return el("li", {}, form);
  }

  async function editVideo(event, video, status) {
    event.preventDefault();
    const form = event.target;
    const change = {video_id: video.id, title: form.elements.title.value.trim(),
      description: form.elements.description.value.trim(), visibility: form.elements.visibility.value};
    try {
      const answer = await signed("PATCH", "/api/v1/videos/" + video.id, "edit", change);
      form.querySelector(".video-visibility").textContent = (answer && answer.visibility) || change.visibility;
      setStatus(status, "Saved.", "ok");
    } catch (err) {
      setStatus(status, "Not saved: " + err.message, "error");
    }
  }

  async function deleteVideo(video, form, status) {
    if (!confirm("Delete “" + (video.title || "this video") + "” from the network? This cannot be undone.")) return;
    try {
      await signed("DELETE", "/api/v1/videos/" + video.id, "delete", {video_id: video.id});
      form.closest("li").remove();
      setStatus(document.getElementById("videos-status"), "Deleted “" + (video.title || video.id) + "”.", "ok");
    } catch (err) {
      setStatus(status, "Not deleted: " + err.message, "error");
    }
  }

  async function loadAccount() {
    const status = document.getElementById("account-status");
    const balances = document.getElementById("account-balances");
    const table = document.getElementById("account-entries");
    try {
      const account = await api("/api/v1/accounts/" + encodeURIComponent("channel:" + key.channel));
      balances.replaceChildren(...Object.entries(account.balances || {}).map(([currency, amount]) =>
        el("li", {"data-currency": currency, "data-amount": amount},
          ["Balance: ", el("strong", {}, formatMoney(amount, currency, exponentOf(currency)))])));
      table.tBodies[0].replaceChildren(...(account.entries || []).map((entry) => el("tr", {}, [
        el("td", {}, formatDate(entry.created)),
        el("td", {}, describe(entry)),
        el("td", {}, formatMoney(entry.amount, entry.currency, exponentOf(entry.currency))),
      ])));
      table.hidden = !(account.entries || []).length;
      setStatus(status, "");
    } catch (err) {
      balances.replaceChildren();
      table.hidden = true;
      setStatus(status, err.status === 404 ? "No money yet: donations to your videos will show here." : err.message,
        err.status === 404 ? "" : "error");
    }
  }

  const PAYOUT_STEPS = {payout_requested: "Payout requested", payout_paid: "Payout paid",
    payout_rejected: "Payout rejected, money back"};

  function describe(entry) {
    if (entry.payout) return [PAYOUT_STEPS[entry.reason] || "Payout", " ", el("code", {}, String(entry.payout))];
    if (entry.video_id) return ["Gift for ", el("a", {href: "/watch/" + entry.video_id}, entry.video_id.slice(0, 12) + "…")];
    return entry.donation ? "Donation " + entry.donation : "";
  }

  async function requestPayout(event) {
    event.preventDefault();
    const form = event.target;
    const status = document.getElementById("payout-status");
    const currency = form.elements.currency.value;
    const amount = minorUnits(form.elements.amount.value, exponentOf(currency));
    const destination = form.elements.destination.value.trim();
    if (!amount) return setStatus(status, "Enter an amount like 5 or 2.50.", "error");
    if (!destination) return form.reportValidity();
    try {
      const answer = await signed("POST", "/api/v1/payouts", "payout", {amount, currency, destination});
      setStatus(status, "Payout " + answer.payout + " requested: " + formatMoney(amount, currency, exponentOf(currency)) +
        " to " + destination + " (" + answer.state + "). The tracker's operator pays it out.", "ok");
      loadAccount();
    } catch (err) {
      setStatus(status, err.code === "insufficient_funds"
        ? "Not enough money in the channel's account for this payout: " + err.message : "Not requested: " + err.message,
      "error");
    }
  }

  document.getElementById("key-create").addEventListener("click", () =>
    createKey().catch((err) => setStatus(keyStatus, err.message, "error")));
  document.getElementById("key-export").addEventListener("click", () =>
    exportKey().catch((err) => setStatus(keyStatus, err.message, "error")));
  document.getElementById("key-import").addEventListener("change", importKey);
  document.getElementById("profile-form").addEventListener("submit", saveProfile);
  document.getElementById("payout-form").addEventListener("submit", requestPayout);
  SlipstreamChannel.load().then((stored) => {
    key = stored;
    showKey();
  }, (err) => setStatus(keyStatus, err.message, "error"));
})();
