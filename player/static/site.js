/* Helpers shared by the website's pages: the tracker's API, safe DOM building, formatting.
 * Pages talk to the tracker like any third-party site would; <body data-tracker> names it
 * (empty: this page's own origin). */
(function (global) {
  "use strict";
  const {SlipstreamError} = global;

  function trackerUrl() {
    return (document.body.dataset.tracker || location.origin).replace(/\/+$/, "");
  }

  /* JSON from the tracker (or any absolute URL); errors carry the API's {error, message}. */
  async function api(pathOrUrl, options) {
    const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : trackerUrl() + pathOrUrl;
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      throw new SlipstreamError("unreachable", "Could not reach " + new URL(url).origin + ".");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      body = null;
    }
    if (!response.ok) {
      const message = (body && body.message) || response.status + " " + response.statusText;
      throw new SlipstreamError((body && body.error) || "http_" + response.status, message, response.status);
    }
    return body;
  }

  function postJson(pathOrUrl, data) {
    return api(pathOrUrl, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(data),
    });
  }

  /* el("a", {href: "/x", class: "card"}, ["text", child]): text always goes in as text, never HTML. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function formatDuration(seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds)) return "";
    const total = Math.round(seconds);
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function formatDate(iso) {
    const date = new Date(iso);
    if (isNaN(date)) return "";
    const days = (Date.now() - date) / 86400000;
    if (days < 1 / 24) return "just now";
    if (days < 1) return Math.round(days * 24) + " h ago";
    if (days < 30) return Math.round(days) + " d ago";
    return date.toLocaleDateString();
  }

  /* What the tracker put in the page for `videoId` (pages.py boot: {video, sources}), or null. */
  function boot(videoId) {
    const tag = document.getElementById("slipstream-boot");
    try {
      const data = tag ? JSON.parse(tag.textContent) : null;
      return data && data.video && data.video.id === videoId ? data : null;
    } catch (err) {
      return null;
    }
  }

  /* A video's card in a grid: poster, duration, title, creator and age. */
  function card(video) {
    const href = "/watch/" + encodeURIComponent(video.id);
    const poster = video.poster_url
      ? el("img", {src: video.poster_url, alt: "", loading: "lazy", decoding: "async"})
      : el("span", {class: "poster-missing", "aria-hidden": "true"}, "▶");
    const meta = [video.creator || "anonymous", formatDate(video.created)].filter(Boolean).join(" · ");
    return el("li", {class: "card"}, [
      el("a", {class: "card-link", href: href}, [
        el("span", {class: "poster"}, [
          poster,
          video.duration ? el("span", {class: "duration"}, formatDuration(video.duration)) : null,
        ]),
        el("span", {class: "card-title"}, video.title || "Untitled"),
      ]),
      el("span", {class: "card-meta"}, meta),
    ]);
  }

  /* "12.5" → 1250 minor units for an exponent of 2; null when it is not a positive amount. */
  function minorUnits(text, exp) {
    const match = /^\s*(\d{1,9})(?:[.,](\d*))?\s*$/.exec(text);
    if (!match || (match[2] || "").length > exp) return null;
    const units = Number(match[1]) * 10 ** exp + Number((match[2] || "").padEnd(exp, "0") || 0);
    return units > 0 ? units : null;
  }

  /* 1250 minor units of EUR (exponent 2) → "€12.50" in the reader's locale. */
  function formatMoney(amount, currency, exp) {
    try {
      return new Intl.NumberFormat(undefined, {style: "currency", currency: currency,
        minimumFractionDigits: exp, maximumFractionDigits: exp}).format(amount / 10 ** exp);
    } catch (err) {
      return (amount / 10 ** exp).toFixed(exp) + " " + currency;
    }
  }

  function setStatus(node, text, kind) {
    node.textContent = text || "";
    node.dataset.kind = kind || "";
    node.hidden = !text;
  }

  global.SlipstreamSite = {api, postJson, el, card, minorUnits, formatMoney, trackerUrl, boot, formatDuration,
    formatDate, setStatus};
})(window);
