/* Slipstream player: plays a video from untrusted edges, trusting only its id.
 *
 *   <video id="v" controls></video>
 *   <script src="https://tracker.example/player/static/slipstream-player.js"></script>
 *   <script>Slipstream.play(document.getElementById("v"), {videoId: "3f78…001b"});</script>
 *
 * or, with no code at all, <video controls data-slipstream-video="3f78…001b"></video>.
 *
 * The tracker defaults to the server this script came from. A video's id is the first 20 bytes of
 * the SHA-256 of its manifest.json, and the manifest holds the SHA-256 of every file, so the player
 * asks the tracker for sources, takes the first edge whose manifest hashes to the id, and plays
 * that edge's master playlist with hls.js (loaded from the same server when the page has not).
 * Segments are not yet checked one by one: that is a custom hls.js loader working from
 * `player.manifest` and `player.sources` (see hlsConfig). Until then a fatal network error moves
 * playback to the next source.
 */
(function (global) {
  "use strict";

  const VIDEO_ID = /^[0-9a-f]{40}$/;
  const SCRIPT_SRC = document.currentScript ? document.currentScript.src : location.href;
  const HLS_MIME = "application/vnd.apple.mpegurl";

  class PlayerError extends Error {
    constructor(code, message, source) {
      super(message);
      this.code = code;
      this.source = source || null;
    }
  }

  /* ---- hashing ---- */

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* SHA-256 of an ArrayBuffer or Uint8Array, as bytes. crypto.subtle only exists on https and
   * localhost pages; a site reached over plain http on a LAN gets the plain-JS sha256.js instead. */
  async function sha256(data) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    if (global.crypto && global.crypto.subtle) {
      return new Uint8Array(await global.crypto.subtle.digest("SHA-256", bytes));
    }
    return (await loadScript("sha256.js", "SlipstreamSha256"))(bytes);
  }

  async function videoIdOf(manifestBytes) {
    return hex((await sha256(manifestBytes)).subarray(0, 20));
  }

  /* ---- HTTP ---- */

  async function fetchWithTimeout(url, timeoutMs) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await fetch(url, {signal: controller.signal, credentials: "omit"});
    } catch (err) {
      throw new PlayerError(err.name === "AbortError" ? "timeout" : "unreachable",
        (err.name === "AbortError" ? "timed out: " : "could not reach ") + url);
    } finally {
      clearTimeout(timer);
    }
  }

  async function fetchOk(url, timeoutMs) {
    const response = await fetchWithTimeout(url, timeoutMs);
    if (!response.ok) {
      let message = response.status + " from " + url;
      try {
        const body = await response.json();
        if (body && body.message) message = body.message;
      } catch (err) { /* not a JSON error body */ }
      throw new PlayerError("http_" + response.status, message);
    }
    return response;
  }

  const scripts = {};

  /* A script from the server this one came from, loaded once; resolves to the global it defines. */
  function loadScript(path, name) {
    if (global[name]) return Promise.resolve(global[name]);
    if (!scripts[path]) {
      const src = new URL(path, SCRIPT_SRC).href;
      scripts[path] = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = src;
        script.onload = () => (global[name] ? resolve(global[name]) : reject(new Error(src + " defined no " + name)));
        script.onerror = () => reject(new Error("could not load " + src));
        document.head.append(script);
      });
    }
    return scripts[path];
  }

  /* hls.js from the page if it loaded it, else from the server that served this script. */
  const loadHls = () => loadScript("../vendor/hls.min.js", "Hls");

  /* ---- the player ---- */

  class Player {
    constructor(video, options) {
      options = options || {};
      this.video = video;
      this.videoId = options.videoId;
      this.tracker = (options.tracker || new URL(SCRIPT_SRC).origin).replace(/\/+$/, "");
      this.options = Object.assign({autoplay: true, timeoutMs: 5000}, options);
      this.sources = [];       // the tracker's answer, best first: [{node, url, …}]
      this.foundBy = null;     // the tracker that found them (for the donation split)
      this.source = null;      // the source now in use
      this.failed = new Set(); // urls of sources given up on
      this.manifest = null;    // the parsed manifest.json, checked against the id
      this.mode = null;        // "mse" (hls.js) or "native" (the browser's HLS: media unchecked)
      this.state = "idle";     // idle, finding, verifying, loading, playing, failed
      this.errors = [];        // {code, message, source, at}
      this.served = {};        // node id -> bytes it delivered
      this.firstFrameMs = null;  // ms from navigation start to the first frame shown
      this.startedMs = performance.now();
      this.muted = false;      // true when autoplay was only allowed muted
      this.hls = null;
      this.listeners = {};
      this.ready = this.start();
    }

    on(event, listener) {
      (this.listeners[event] = this.listeners[event] || []).push(listener);
      return this;
    }

    emit(event, detail) {
      (this.listeners[event] || []).forEach((listener) => listener(detail, this));
      this.video.dispatchEvent(new CustomEvent("slipstream:" + event, {detail: detail}));
    }

    setState(state, message) {
      this.state = state;
      this.emit("state", {state: state, message: message || ""});
    }

    record(error, source) {
      const entry = {
        code: error.code || error.name || "error",
        message: error.message || String(error),
        source: source ? source.url : (error.source || null),
        at: Math.round(performance.now()),
      };
      this.errors.push(entry);
      this.emit("error", entry);
      return entry;
    }

    fileUrl(source, name) {
      return source.url.replace(/\/+$/, "") + "/videos/" + this.videoId + "/" + name;
    }

    count(source, bytes) {
      const key = source.node || source.url;
      this.served[key] = (this.served[key] || 0) + bytes;
    }

    async start() {
      try {
        if (!VIDEO_ID.test(this.videoId || "")) {
          throw new PlayerError("bad_id", "A video id is 40 lowercase hex characters.");
        }
        this.setState("finding", "Finding an edge…");
        const answer = await (await fetchOk(
          this.tracker + "/api/v1/videos/" + this.videoId + "/sources", this.options.timeoutMs)).json();
        this.sources = Array.isArray(answer.sources) ? answer.sources : [];
        this.foundBy = answer.found_by || this.tracker;
        if (!this.sources.length) {
          throw new PlayerError("no_sources", "No edge holds this video right now.");
        }
        this.setState("verifying", "Checking the video against its id…");
        for (const source of this.sources) {
          try {
            this.manifest = await this.loadManifest(source);
            this.source = source;
            break;
          } catch (err) {
            this.record(err, source);
            this.failed.add(source.url);
          }
        }
        if (!this.manifest) {
          throw new PlayerError("no_valid_source", "No edge sent a manifest matching this video's id.");
        }
        this.setState("loading", "Loading…");
        await this.attach();
      } catch (err) {
        this.fail(err);
      }
      return this;
    }

    /* The manifest from one edge, refused unless its bytes hash to the video id. */
    async loadManifest(source) {
      const response = await fetchOk(this.fileUrl(source, "manifest.json"), this.options.timeoutMs);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (await videoIdOf(bytes) !== this.videoId) {
        throw new PlayerError("bad_manifest", "the manifest from " + source.url + " does not hash to the video id");
      }
      let manifest;
      try {
        manifest = JSON.parse(new TextDecoder().decode(bytes));
      } catch (err) {
        throw new PlayerError("bad_manifest", "the manifest from " + source.url + " is not JSON");
      }
      if (!manifest || typeof manifest.files !== "object" || !manifest.files["master.m3u8"]) {
        throw new PlayerError("bad_manifest", "the manifest from " + source.url + " lists no master playlist");
      }
      this.count(source, bytes.length);
      return manifest;
    }

    async attach() {
      let Hls = null;
      try {
        Hls = await loadHls();
      } catch (err) {
        this.record(err);
      }
      this.watchFirstFrame();
      this.video.addEventListener("playing", () => this.setState("playing", ""));
      if (this.manifest.poster && !this.video.poster) {
        this.video.poster = this.fileUrl(this.source, this.manifest.poster);
      }
      if (Hls && Hls.isSupported()) {
        this.mode = "mse";
        this.startHls(Hls, this.source, this.options.startPosition || -1);
      } else if (this.video.canPlayType(HLS_MIME)) {
        // Safari on iOS has no MSE: the browser fetches the media itself, so only the manifest is checked.
        this.mode = "native";
        this.record(new PlayerError("verification_off",
          "This browser plays HLS natively: segments are not checked against the manifest."));
        this.video.addEventListener("error", () => this.failOver(new PlayerError("media_error",
          "the browser could not play the stream from " + this.source.url)));
        this.video.src = this.fileUrl(this.source, "master.m3u8");
      } else {
        throw new PlayerError("unsupported", "This browser cannot play HLS video.");
      }
      if (this.options.autoplay) this.autoplay();
    }

    /* hls.js settings. Issue 6 adds here the loader that checks every file against `this.manifest`
     * and retries it on the next of `this.sources`, with load policies tuned for a dead edge. */
    hlsConfig(startPosition) {
      return {
        startPosition: startPosition,
        capLevelToPlayerSize: true,  // no 720p segments for a 320-pixel-wide embed
      };
    }

    startHls(Hls, source, startPosition) {
      const hls = new Hls(this.hlsConfig(startPosition));
      this.hls = hls;
      // stats, not payload.byteLength: the payload may already be transferred to the transmux worker.
      const counted = (data) => {
        if (this.hls === hls) this.count(source, (data.part || data.frag || data).stats.loaded);
      };
      hls.on(Hls.Events.FRAG_LOADED, (event, data) => counted(data));
      hls.on(Hls.Events.MANIFEST_LOADED, (event, data) => counted(data));
      hls.on(Hls.Events.LEVEL_LOADED, (event, data) => counted(data));
      hls.on(Hls.Events.ERROR, (event, data) => this.onHlsError(Hls, hls, data));
      hls.loadSource(this.fileUrl(source, "master.m3u8"));
      hls.attachMedia(this.video);
    }

    onHlsError(Hls, hls, data) {
      if (this.hls !== hls) return;
      const error = new PlayerError(data.details || data.type,
        (data.error && data.error.message) || data.details || "playback error");
      if (!data.fatal) {
        this.record(error, this.source);
        return;
      }
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !this.recoveredMedia) {
        this.recoveredMedia = true;  // hls.js's documented recovery: rebuild the SourceBuffers once
        this.record(error, this.source);
        hls.recoverMediaError();
      } else if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        this.failOver(error);
      } else {
        this.fail(error);
      }
    }

    /* Move to the next source still trusted, resuming where playback was. */
    failOver(error) {
      this.record(error, this.source);
      this.failed.add(this.source.url);
      const next = this.sources.find((s) => !this.failed.has(s.url));
      if (!next) {
        this.fail(new PlayerError("no_sources_left", "Every edge holding this video failed."));
        return;
      }
      const position = this.video.currentTime || -1;
      this.source = next;
      if (this.mode === "mse") {
        this.hls.destroy();
        this.startHls(global.Hls, next, position);
      } else {
        this.video.src = this.fileUrl(next, "master.m3u8");
        this.video.currentTime = Math.max(0, position);
      }
      if (this.options.autoplay || !this.video.paused) this.autoplay();
    }

    autoplay() {
      this.video.play().catch((err) => {
        // Browsers may refuse sound without a user gesture; playing muted is allowed.
        if (err.name === "NotAllowedError" && !this.video.muted) {
          this.video.muted = true;
          this.muted = true;
          return this.video.play().catch(() => {});
        }
        return null;
      });
    }

    watchFirstFrame() {
      const seen = () => {
        if (this.firstFrameMs === null) {
          this.firstFrameMs = Math.round(performance.now());
          this.emit("firstframe", {ms: this.firstFrameMs});
        }
      };
      if (this.video.requestVideoFrameCallback) {
        this.video.requestVideoFrameCallback(seen);
      } else {
        this.video.addEventListener("loadeddata", seen, {once: true});
      }
    }

    fail(error) {
      if (this.hls) this.hls.stopLoad();
      this.record(error, error.source ? {url: error.source} : null);
      this.setState("failed", error.message);
    }

    /* A JSON-able picture of the player, for tests and for the donation report. */
    snapshot() {
      return {
        videoId: this.videoId,
        tracker: this.tracker,
        state: this.state,
        mode: this.mode,
        verified: Boolean(this.manifest),
        manifest: this.manifest,
        source: this.source,
        sources: this.sources,
        failed: Array.from(this.failed),
        foundBy: this.foundBy,
        served: Object.assign({}, this.served),
        errors: this.errors.slice(),
        firstFrameMs: this.firstFrameMs,
        muted: this.muted,
      };
    }

    destroy() {
      if (this.hls) this.hls.destroy();
      this.hls = null;
      this.video.removeAttribute("src");
      this.video.load();
    }
  }

  function play(video, options) {
    return new Player(video, options);
  }

  /* <video data-slipstream-video="<id>" data-slipstream-tracker="https://…"> plays with no code. */
  function autoStart() {
    document.querySelectorAll("video[data-slipstream-video]").forEach((video) => {
      if (video.slipstream) return;
      video.slipstream = play(video, {
        videoId: video.dataset.slipstreamVideo,
        tracker: video.dataset.slipstreamTracker || undefined,
        autoplay: video.hasAttribute("autoplay"),
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", autoStart);
  } else {
    autoStart();
  }

  global.Slipstream = {play, Player, PlayerError, sha256, videoIdOf, loadScript, loadHls, VIDEO_ID};
})(window);
