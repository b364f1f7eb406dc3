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
 *
 * hls.js fetches nothing itself: its loader is `verifyingLoader(player)`, which gets every
 * playlist, init segment and media segment by its name in the manifest, checks its size and
 * SHA-256 before hls.js sees a byte, and on a mismatch, an HTTP error or a timeout fetches the same
 * file from the next source, reports the edge to the tracker and stops using it. Playback never
 * restarts: hls.js only sees a slower load. Verified bytes are counted per edge in `served`.
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

  /* ---- the verifying loader ---- */

  // A dead edge must cost well under 2 s of playback (issue 6), and a live one across an ocean, on
  // a new TLS connection, still sends its first byte, and then each next chunk, sooner than this.
  // Options `firstByteMs` and `stallMs` override them.
  const FIRST_BYTE_MS = 1000;
  const STALL_MS = 1000;
  const DELIVERIES_KEPT = 200;  // the last verified files, for tests and diagnostics
  const REFRESH_MS = 2000;  // at most one new sources request per this, once every edge failed

  /* Fields of hls.js's LoaderStats (hls.d.ts), which its bandwidth estimate reads. */
  function newStats() {
    return {aborted: false, loaded: 0, retry: 0, total: 0, chunkCount: 0, bwEstimate: 0,
      loading: {start: 0, first: 0, end: 0}, parsing: {start: 0, end: 0}, buffering: {start: 0, first: 0, end: 0}};
  }

  /* An hls.js Loader (hls.d.ts: load(context, config, callbacks), abort, destroy, context, stats)
   * whose bytes come from `player.fetchVerified`: the same file from any trusted source. The
   * response keeps the URL hls.js asked for, so relative URIs in playlists still resolve there and
   * map back to manifest names whichever edge sent the bytes. */
  function verifyingLoader(player) {
    return class SlipstreamLoader {
      constructor() {
        this.context = null;
        this.stats = newStats();
        this.callbacks = null;
        this.controller = null;
        this.finished = false;  // onSuccess, onError or onTimeout was called
      }

      load(context, config, callbacks) {
        const stats = this.stats;
        this.context = context;
        this.callbacks = callbacks;
        this.controller = new AbortController();
        stats.loading.start = performance.now();
        const signal = this.controller.signal;
        player.fetchVerified(context.url, signal, stats, config.loadPolicy).then((bytes) => {
          if (signal.aborted || !this.callbacks) return;
          this.finished = true;
          let body = bytes;
          if (context.rangeEnd) body = bytes.subarray(context.rangeStart || 0, context.rangeEnd);
          stats.loading.end = Math.max(stats.loading.end || performance.now(), stats.loading.first);
          stats.loaded = stats.total = body.length;
          let data = body.buffer.byteLength === body.length ? body.buffer : body.slice().buffer;
          if (context.responseType === "text") data = new TextDecoder().decode(body);
          else if (context.responseType === "json") data = JSON.parse(new TextDecoder().decode(body));
          this.callbacks.onSuccess({url: context.url, data: data, code: 200}, stats, context, null);
        }, (err) => {
          if (signal.aborted || !this.callbacks) return;
          this.finished = true;
          if (err.code === "timeout") this.callbacks.onTimeout(stats, context, null);
          else this.callbacks.onError({code: err.status || 0, text: err.message}, context, null, stats);
        });
      }

      abort() {
        if (!this.controller || this.finished) return;
        this.stats.aborted = true;
        this.controller.abort();
        if (this.callbacks && this.callbacks.onAbort) this.callbacks.onAbort(this.stats, this.context, null);
      }

      destroy() {
        if (this.controller && !this.finished) this.controller.abort();
        this.callbacks = null;
      }

      getCacheAge() { return null; }

      getResponseHeader() { return null; }
    };
  }

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
      this.served = {};        // node id -> verified bytes it delivered (the donation split)
      this.deliveries = [];    // the last verified files: {name, node, bytes}
      this.reported = new Set(); // urls of sources already reported to the tracker
      this.refreshedAt = 0;
      this.stalls = 0;         // times hls.js saw the buffer run dry during playback
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

    /* The manifest name of a URL under /videos/<id>/ on any edge, or null. */
    fileName(url) {
      const path = new URL(url, location.href).pathname;
      const prefix = "/videos/" + this.videoId + "/";
      const at = path.indexOf(prefix);
      return at < 0 ? null : decodeURIComponent(path.slice(at + prefix.length));
    }

    /* The source to try next for one file: the one in use first, then the tracker's order. */
    nextSource(tried) {
      const usable = (s) => !this.failed.has(s.url) && !tried.has(s.url);
      if (this.source && usable(this.source)) return this.source;
      return this.sources.find(usable) || null;
    }

    /* Every source failed: ask the tracker again (edges come and go), at most every REFRESH_MS. */
    async refreshSources() {
      if (performance.now() - this.refreshedAt < REFRESH_MS) return;
      this.refreshedAt = performance.now();
      try {
        const answer = await (await fetchOk(
          this.tracker + "/api/v1/videos/" + this.videoId + "/sources", this.options.timeoutMs)).json();
        const known = new Set(this.sources.map((s) => s.url));
        (answer.sources || []).forEach((s) => known.has(s.url) || this.sources.push(s));
      } catch (err) {
        this.record(err);
      }
    }

    /* The bytes of the file behind `url`, from the first source whose copy matches the manifest.
     * A source that fails (bad bytes, HTTP error, timeout) is reported and not used again. */
    async fetchVerified(url, signal, stats, loadPolicy) {
      const name = this.fileName(url);
      const files = this.manifest.files;
      const expected = name !== null && Object.prototype.hasOwnProperty.call(files, name) ? files[name] : null;
      if (!expected) throw new PlayerError("not_in_manifest", url + " is not a file of this video");
      const tried = new Set();
      for (;;) {
        let source = this.nextSource(tried);
        if (!source) {
          await this.refreshSources();
          source = this.nextSource(tried);
        }
        if (!source) throw new PlayerError("no_sources_left", "no edge sent " + name + " intact");
        tried.add(source.url);
        try {
          const bytes = await this.download(source, name, expected.size, signal, stats, loadPolicy);
          if (hex(await sha256(bytes)) !== expected.sha256) {
            throw new PlayerError("hash_mismatch", name + " from " + source.url + " does not match the manifest");
          }
          if (signal.aborted) throw new PlayerError("aborted", "aborted");
          this.delivered(source, name, bytes.length);
          return bytes;
        } catch (err) {
          if (signal.aborted) throw err;
          this.dropSource(source, err);
          if (stats) stats.retry += 1;
        }
      }
    }

    /* One GET of one file, refused past `size` bytes, with a first-byte and a stall timeout. */
    async download(source, name, size, signal, stats, loadPolicy) {
      const controller = new AbortController();
      const stop = () => controller.abort();
      signal.addEventListener("abort", stop);
      let timedOut = false, timer = null;
      const arm = (ms) => {
        clearTimeout(timer);
        timer = setTimeout(() => { timedOut = true; controller.abort(); }, ms);
      };
      const policyMs = loadPolicy && loadPolicy.maxTimeToFirstByteMs;
      arm(Math.min(this.options.firstByteMs || FIRST_BYTE_MS, policyMs || Infinity));
      const url = this.fileUrl(source, name);
      try {
        const response = await fetch(url, {signal: controller.signal, credentials: "omit"});
        if (!response.ok) {
          const error = new PlayerError("http_error", response.status + " from " + url);
          error.status = response.status;
          throw error;
        }
        if (stats) {
          stats.loading.first = Math.max(performance.now(), stats.loading.start);
          stats.total = size;
        }
        const bytes = new Uint8Array(size);
        const reader = response.body.getReader();
        let length = 0;
        for (;;) {
          arm(this.options.stallMs || STALL_MS);
          const {done, value} = await reader.read();
          if (done) break;
          if (length + value.length > size) {
            reader.cancel().catch(() => {});
            throw new PlayerError("hash_mismatch", name + " from " + url + " is longer than the manifest says");
          }
          bytes.set(value, length);
          length += value.length;
          if (stats) {
            stats.loaded = length;
            stats.chunkCount += 1;
          }
        }
        if (length !== size) {
          throw new PlayerError("hash_mismatch", name + " from " + url + " is shorter than the manifest says");
        }
        // The transfer's end, not the hash's: hls.js estimates bandwidth from these times.
        if (stats) stats.loading.end = performance.now();
        return bytes;
      } catch (err) {
        if (err instanceof PlayerError) throw err;
        if (timedOut) throw new PlayerError("timeout", "timed out: " + url);
        if (signal.aborted) throw err;
        throw new PlayerError("http_error", "could not load " + url + " (" + err.message + ")");
      } finally {
        clearTimeout(timer);
        signal.removeEventListener("abort", stop);
      }
    }

    delivered(source, name, bytes) {
      this.count(source, bytes);
      this.deliveries.push({name: name, node: source.node || source.url, bytes: bytes});
      if (this.deliveries.length > DELIVERIES_KEPT) this.deliveries.shift();
      if (this.source !== source) {
        this.source = source;
        this.emit("source", {url: source.url, node: source.node || null});
      }
    }

    /* Stop using a source for good, and tell the tracker, which ranks it down for everyone. */
    dropSource(source, error) {
      this.record(error, source);
      if (this.failed.has(source.url)) return;
      this.failed.add(source.url);
      const reason = error.code === "bad_manifest" ? "hash_mismatch"
        : error.code === "timeout" ? "timeout" : error.code === "hash_mismatch" ? "hash_mismatch" : "http_error";
      this.report(source, reason);
    }

    report(source, reason) {
      if (!source.node || this.reported.has(source.url)) return;
      this.reported.add(source.url);
      // keepalive: the report still goes out if the viewer closes the page right now.
      fetch(this.tracker + "/api/v1/videos/" + this.videoId + "/reports", {
        method: "POST", credentials: "omit", keepalive: true,
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({node: source.node, reason: reason}),
      }).catch(() => {});
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
            this.dropSource(source, err);
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
      // A few kilobytes: the first-byte budget is enough, so a frozen edge does not delay the start.
      const response = await fetchOk(this.fileUrl(source, "manifest.json"), this.options.firstByteMs || FIRST_BYTE_MS);
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

    /* hls.js settings: every request goes through the verifying loader; `options.hls` adds to them
     * (a host page may, say, shorten the buffer with {maxBufferLength: 10}). */
    hlsConfig(startPosition) {
      const Loader = verifyingLoader(this);
      return Object.assign({
        startPosition: startPosition,
        capLevelToPlayerSize: true,  // no 720p segments for a 320-pixel-wide embed
      }, this.options.hls || {}, {loader: Loader, pLoader: Loader, fLoader: Loader});
    }

    startHls(Hls, source, startPosition) {
      const hls = new Hls(this.hlsConfig(startPosition));
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (event, data) => this.onHlsError(Hls, hls, data));
      hls.loadSource(this.fileUrl(source, "master.m3u8"));
      hls.attachMedia(this.video);
    }

    onHlsError(Hls, hls, data) {
      if (this.hls !== hls) return;
      const error = new PlayerError(data.details || data.type,
        (data.error && data.error.message) || data.details || "playback error");
      if (!data.fatal) {
        // Not failures: a buffer running dry (counted in `stalls`; the video fires `waiting` too),
        // and a fragment fetched again at another quality landing on media already buffered.
        if (data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) this.stalls += 1;
        else if (data.details !== Hls.ErrorDetails.BUFFER_APPEND_NO_PROGRESS) this.record(error, this.source);
        return;
      }
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !this.recoveredMedia) {
        this.recoveredMedia = true;  // hls.js's documented recovery: rebuild the SourceBuffers once
        this.record(error, this.source);
        hls.recoverMediaError();
      } else {
        this.fail(error);
      }
    }

    /* Native HLS only (hls.js's loader moves between sources file by file): move to the next source
     * still trusted, resuming where playback was. */
    failOver(error) {
      this.record(error, this.source);
      this.failed.add(this.source.url);
      const next = this.sources.find((s) => !this.failed.has(s.url));
      if (!next) {
        this.fail(new PlayerError("no_sources_left", "Every edge holding this video failed."));
        return;
      }
      const position = this.video.currentTime || 0;
      this.source = next;
      this.video.src = this.fileUrl(next, "master.m3u8");
      this.video.currentTime = position;
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
        deliveries: this.deliveries.slice(),
        stalls: this.stalls,
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
