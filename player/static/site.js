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

  function setStatus(node, text, kind) {
    node.textContent = text || "";
    node.dataset.kind = kind || "";
    node.hidden = !text;
  }

  global.SlipstreamSite = {api, postJson, el, trackerUrl, boot, formatDuration, formatDate, setStatus};
})(window);
