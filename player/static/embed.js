/* Embed page: only the player, filling the iframe, driven by its host page through postMessage.
 *
 * Commands (host → iframe): {slipstream: "command", method, value?, id?}, method one of play, pause,
 * seek (value: seconds), volume (value: 0…1), mute (value: true/false), getCurrentTime, getState.
 * Each gets a reply {slipstream: "reply", id, method, value} or {slipstream: "reply", id, method,
 * error}. Events (iframe → host): {slipstream: "event", event, videoId, currentTime, duration,
 * paused, volume, muted}, event one of ready, play, pause, timeupdate, seeked, volumechange, ended,
 * error. Events carry only playback state, so they go to any host ("*"); replies go to the origin
 * that asked. See player/README.md and embed-example.html.
 */
(function () {
  "use strict";
  const {boot, setStatus, trackerUrl} = window.SlipstreamSite;
  const stage = document.querySelector(".embed-stage");
  const status = document.getElementById("player-status");
  const video = document.getElementById("player");
  const player = window.Slipstream.play(video, {
    tracker: trackerUrl(),
    videoId: stage.dataset.videoId,
    sources: (boot(stage.dataset.videoId) || {}).sources,  // carried in the page: no lookup first
    // Embeds play on load unless the host page asks otherwise, as with ?autoplay=0 on other sites.
    autoplay: new URLSearchParams(location.search).get("autoplay") !== "0",
  });
  window.slipstreamPlayer = player;
  window.SlipstreamThumbnails.attach(player, video);  // a seek bar with preview thumbnails
  player.on("state", (detail) => {
    const shown = detail.state === "failed" || detail.state === "finding" || detail.state === "verifying";
    setStatus(status, shown ? detail.message : "", detail.state === "failed" ? "error" : "");
  });

  /* ---- the postMessage API ---- */

  const host = window.parent !== window ? window.parent : null;

  function playbackState() {
    return {
      videoId: player.videoId,
      currentTime: video.currentTime,
      duration: Number.isFinite(video.duration) ? video.duration : null,
      paused: video.paused,
      volume: video.volume,
      muted: video.muted,
    };
  }

  function post(event, extra) {
    if (host) host.postMessage(Object.assign({slipstream: "event", event: event}, playbackState(), extra), "*");
  }

  const finite = (value) => typeof value === "number" && Number.isFinite(value);

  const COMMANDS = {
    play: () => { player.autoplay(); },
    pause: () => { video.pause(); },
    seek: (value) => {
      if (!finite(value) || value < 0) throw new Error("seek takes a number of seconds ≥ 0");
      video.currentTime = Number.isFinite(video.duration) ? Math.min(value, video.duration) : value;
    },
    volume: (value) => {
      if (!finite(value) || value < 0 || value > 1) throw new Error("volume takes a number from 0 to 1");
      video.volume = value;
      if (value > 0) video.muted = false;
    },
    mute: (value) => { video.muted = value !== false; },
    getCurrentTime: () => video.currentTime,
    getState: () => Object.assign(playbackState(), {state: player.state, source: player.source && player.source.url}),
  };

  window.addEventListener("message", (event) => {
    const message = event.data;
    if (!message || message.slipstream !== "command" || event.source !== host) return;
    const reply = {slipstream: "reply", id: message.id === undefined ? null : message.id, method: message.method};
    try {
      if (!Object.prototype.hasOwnProperty.call(COMMANDS, message.method)) {
        throw new Error("unknown method " + String(message.method));
      }
      const value = COMMANDS[message.method](message.value);
      if (value !== undefined) reply.value = value;
    } catch (err) {
      reply.error = err.message;
    }
    // An opaque origin ("null", e.g. a sandboxed frame) can only be answered with "*".
    event.source.postMessage(reply, event.origin === "null" ? "*" : event.origin);
  });

  ["play", "pause", "timeupdate", "seeked", "volumechange", "ended"].forEach((name) => {
    video.addEventListener(name, () => post(name));
  });
  player.on("state", (detail) => {
    if (detail.state === "failed") post("error", {message: detail.message});
  });
  // ready: the player checked the manifest and the video knows its duration.
  player.ready.then(() => {
    if (player.state === "failed") return;
    if (video.readyState >= 1) post("ready");
    else video.addEventListener("loadedmetadata", () => post("ready"), {once: true});
  });
})();
