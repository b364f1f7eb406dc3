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
 * hls.js fetches nothing itself: its loader gets every playlist, init segment and media segment
 * through `fetchVerified`, by its name in the manifest, checked for size and SHA-256 before hls.js
 * sees a byte, whether they came over HTTP or through a WebRTC data channel (a home edge behind NAT,
 * or a plain-http edge seen from an https page); on a mismatch, an HTTP error or a timeout the same file comes from the next source,
 * and the edge is reported to the tracker and not used again. Playback never restarts: hls.js only
 * sees a slower load. Verified bytes are counted per edge in `served`.
 *
 * This file is the orchestration. Its parts, which this site's pages load before it and which a
 * page elsewhere, with only this script tag, gets from beside it:
 *   error.js           SlipstreamError, every script's one error type
 *   player-sources.js  the edges holding the video: which one to try next, dropping and reporting
 *   player-verify.js   SHA-256, the manifest and file checks, the hls.js loader, HTTP transfers
 *   player-webrtc.js   transfers through a WebRTC data channel, for edges HTTP cannot reach
 *   player-stats.js    the verified bytes each edge served (the donation split)
 */
(function (global) {
  "use strict";

  const VIDEO_ID = /^[0-9a-f]{40}$/;
  const SCRIPT_SRC = document.currentScript ? document.currentScript.src : location.href;
  const HLS_MIME = "application/vnd.apple.mpegurl";

  // A dead edge must cost well under 2 s of playback (issue 6), and a live one across an ocean, on
  // a new TLS connection, still sends its first byte, and then each next chunk, sooner than this.
  // Options `firstByteMs` and `stallMs` override them.
  const FIRST_BYTE_MS = 1000;
  const STALL_MS = 1000;

  /* ---- HTTP ---- */

  async function fetchWithTimeout(url, timeoutMs) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await fetch(url, {signal: controller.signal, credentials: "omit"});
    } catch (err) {
      throw new SlipstreamError(err.name === "AbortError" ? "timeout" : "unreachable",
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
      throw new SlipstreamError("http_" + response.status, message, response.status);
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
        script.async = false;  // run in the order asked for, as <script defer> would: parts need error.js
        script.onload = () => (global[name] ? resolve(global[name]) : reject(new Error(src + " defined no " + name)));
        script.onerror = () => reject(new Error("could not load " + src));
        document.head.append(script);
      });
    }
    return scripts[path];
  }

  /* hls.js from the page if it loads it (its <script defer> may come after ours, so the player starts
   * fetching while hls.js is still being parsed), else from the server that served this script. */
  function loadHls() {
    if (global.Hls) return Promise.resolve(global.Hls);
    const tag = document.querySelector('script[src$="/hls.min.js"]');
    if (!tag) return loadScript("../vendor/hls.min.js", "Hls");
    scripts.page = scripts.page || new Promise((resolve, reject) => {
      tag.addEventListener("load", () => (global.Hls ? resolve(global.Hls) : reject(new Error(tag.src + " defined no Hls"))));
      tag.addEventListener("error", () => reject(new Error("could not load " + tag.src)));
    });
    return scripts.page;
  }

  const lines = (playlist) => playlist.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);

  /* The first URI line of a media playlist: its first segment. */
  function firstUri(playlist) {
    return lines(playlist).find((line) => !line.startsWith("#")) || null;
  }

  /* The variant of a master playlist to start with: the lowest, whose first segment is the smallest to
   * fetch, check and decode, so the first frame comes soonest (bench/first_frame.py); hls.js's ABR then
   * climbs from it as far as the bandwidth and the player's size allow (capLevelToPlayerSize). The
   * first listed if one does not say its size. */
  function startVariant(master) {
    const variants = [];
    let size = null;
    for (const line of lines(master)) {
      if (line.startsWith("#EXT-X-STREAM-INF:")) size = /RESOLUTION=\d+x(\d+)/.exec(line);
      else if (!line.startsWith("#")) variants.push({uri: line, height: size ? Number(size[1]) : 0});
    }
    if (!variants.length || variants.some((v) => !v.height)) return variants.length ? variants[0].uri : null;
    return variants.reduce((low, v) => (v.height < low.height ? v : low)).uri;
  }

  /* The URI of the audio rendition the variants of a master playlist share (EXT-X-MEDIA, RFC 8216
   * 4.3.4.1): the default one, else the first; null when the sound is in the variants themselves. */
  function audioRendition(master) {
    const tracks = lines(master).filter((line) => line.startsWith("#EXT-X-MEDIA:") &&
      /[:,]TYPE=AUDIO(,|$)/.test(line) && /[:,]URI="/.test(line));
    const track = tracks.find((line) => /[:,]DEFAULT=YES(,|$)/.test(line)) || tracks[0];
    return track ? /[:,]URI="([^"]+)"/.exec(track)[1] : null;
  }

  /* The parts, in load order; sha256.js only where WebCrypto is missing (see player-verify.js). */
  const PARTS = [["error.js", "SlipstreamError"], ["player-sources.js", "SlipstreamSources"],
    ["player-verify.js", "SlipstreamVerify"], ["player-stats.js", "SlipstreamStats"],
    ["player-webrtc.js", "SlipstreamWebRTC"]];
  if (!(global.crypto && global.crypto.subtle)) PARTS.push(["sha256.js", "SlipstreamSha256"]);
  let SlipstreamError, SlipstreamSources, SlipstreamVerify, SlipstreamStats, SlipstreamWebRTC;  // set once loaded
  const parts = Promise.all(PARTS.map(([path, name]) => loadScript(path, name))).then(() => {
    ({SlipstreamError, SlipstreamSources, SlipstreamVerify, SlipstreamStats, SlipstreamWebRTC} = global);
  });

  /* ---- the player ---- */

  class Player {
    constructor(video, options) {
      options = options || {};
      this.video = video;
      this.videoId = options.videoId;
      this.tracker = (options.tracker || new URL(SCRIPT_SRC).origin).replace(/\/+$/, "");
      this.options = Object.assign({autoplay: true, timeoutMs: 5000}, options);
      this.edges = null;       // a SlipstreamSources, once the parts are loaded
      this.stats = null;       // a SlipstreamStats, likewise
      this.manifest = null;    // the parsed manifest.json, checked against the id
      this.mode = null;        // "mse" (hls.js) or "native" (the browser's HLS: media unchecked)
      this.state = "idle";     // idle, finding, verifying, loading, playing, failed
      this.errors = [];        // {code, message, source, at}
      this.stalls = 0;         // times hls.js saw the buffer run dry during playback
      this.firstFrameMs = null;  // ms from navigation start to the first frame shown
      this.muted = false;      // true when autoplay was only allowed muted
      this.recoveredMedia = false;
      this.hls = null;
      this.transports = new Map();  // source url → how its files arrive (HTTP, or a data channel)
      this.early = new Map();  // name → {bytes: promise, stats}: files fetched before hls.js asks (fetchAhead)
      this.startVariant = null;  // the media playlist fetched ahead, which hls.js is told to start with
      this.listeners = {};
      this.ready = this.start();
    }

    // What pages read (watch.js, donate.js, snapshot()); a page that has only this script tag may
    // ask before the parts holding it have loaded.
    get sources() { return this.edges ? this.edges.list : []; }
    get source() { return this.edges ? this.edges.current : null; }
    get failed() { return this.edges ? this.edges.failed : new Set(); }
    get foundBy() { return this.edges ? this.edges.foundBy : null; }
    get served() { return this.stats ? this.stats.served : {}; }
    get deliveries() { return this.stats ? this.stats.deliveries : []; }

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
        source: source ? source.url : null,
        at: Math.round(performance.now()),
      };
      this.errors.push(entry);
      this.emit("error", entry);
      return entry;
    }

    fileUrl(source, name) {
      // A channel's source may have no usable URL, but hls.js still needs one per file to name it by.
      return (source.url || source.connect).replace(/\/+$/, "") + "/videos/" + this.videoId + "/" + name;
    }

    /* The manifest name of a URL under /videos/<id>/ on any edge, or null. */
    fileName(url) {
      const path = new URL(url, location.href).pathname;
      const prefix = "/videos/" + this.videoId + "/";
      const at = path.indexOf(prefix);
      return at < 0 ? null : decodeURIComponent(path.slice(at + prefix.length));
    }

    /* The bytes of the file behind `url`, from the first source whose copy matches the manifest.
     * A source that fails (bad bytes, HTTP error, timeout) is reported and not used again. */
    async fetchVerified(url, signal, loaderStats, loadPolicy) {
      const early = this.early.get(this.fileName(url));
      if (early && !early.taken) {
        early.taken = true;  // hls.js asks again only after a failure, and then the network answers
        try {
          const bytes = await early.bytes;
          // The transfer's own times, which hls.js's bandwidth estimate reads.
          if (loaderStats) Object.assign(loaderStats.loading, early.stats.loading);
          return bytes;
        } catch (err) {
          if (signal.aborted) throw err;  // else that source is dropped already: fetch below, from the next
        }
      }
      return this.fetchFromSources(url, signal, loaderStats, loadPolicy);
    }

    /* Fetched ahead (fetchAhead): `name`'s verified bytes, kept for hls.js's loader. */
    prefetch(name) {
      if (!this.early.has(name)) {
        const stats = {loading: {start: performance.now(), first: 0, end: 0}, loaded: 0, total: 0, chunkCount: 0};
        const bytes = this.fetchFromSources(this.fileUrl(this.source, name), new AbortController().signal, stats, null);
        bytes.catch(() => {});  // hls.js's own request sees the failure, or the next source's bytes
        this.early.set(name, {bytes, stats, taken: false});
      }
      return this.early.get(name).bytes;
    }

    /* What hls.js will ask for first, fetched while it loads and sets up the media source: the master
     * playlist, the playlist of the lowest variant (hls.js is told to start there) and
     * that of the audio rendition the variants share, if any, then each one's init segment and first
     * segment, all at once. Each is checked like any file. */
    async fetchAhead() {
      const master = this.fileUrl(this.source, "master.m3u8");
      const text = await this.prefetchText("master.m3u8");
      const variant = startVariant(text);
      if (!variant) return;
      this.startVariant = this.nameOf(variant, master);
      const audio = audioRendition(text);
      await Promise.all([this.startVariant].concat(audio ? [this.nameOf(audio, master)] : [])
        .map((name) => this.fetchMediaAhead(name)));
    }

    /* A media playlist fetched ahead, then its init segment and first segment. */
    async fetchMediaAhead(name) {
      const playlistUrl = this.fileUrl(this.source, name);
      const playlist = await this.prefetchText(name);
      const map = /^#EXT-X-MAP:.*URI="([^"]+)"/m.exec(playlist);
      if (map) this.prefetch(this.nameOf(map[1], playlistUrl));
      const segment = firstUri(playlist);
      if (segment && !(this.options.startPosition > 0)) this.prefetch(this.nameOf(segment, playlistUrl));
    }

    async prefetchText(name) {
      return new TextDecoder().decode(await this.prefetch(name));
    }

    nameOf(uri, base) {
      return this.fileName(new URL(uri, base).href);
    }

    async fetchFromSources(url, signal, loaderStats, loadPolicy) {
      const name = this.fileName(url);
      const entry = SlipstreamVerify.expected(this.manifest.files, name, url);
      const policyMs = loadPolicy && loadPolicy.maxTimeToFirstByteMs;
      const limits = {
        firstByteMs: Math.min(this.options.firstByteMs || FIRST_BYTE_MS, policyMs || Infinity),
        stallMs: this.options.stallMs || STALL_MS,
      };
      const tried = new Set();
      for (;;) {
        let source = this.edges.next(tried);
        if (!source) {
          await this.edges.refresh().catch((err) => this.record(err));
          source = this.edges.next(tried);
        }
        if (!source) throw new SlipstreamError("no_sources_left", "no edge sent " + name + " intact");
        tried.add(source.url);
        try {
          const bytes = await SlipstreamVerify.fetchChecked(
            this.transport(source), name, entry, signal, loaderStats, limits);
          if (signal.aborted) throw new SlipstreamError("aborted", "aborted");
          this.stats.delivered(source, name, bytes.length);
          if (this.edges.current !== source) {
            this.edges.current = source;
            this.emit("source", {url: source.url, node: source.node || null});
          }
          return bytes;
        } catch (err) {
          if (signal.aborted) throw err;
          this.dropSource(source, err);
          if (loaderStats) loaderStats.retry += 1;
        }
      }
    }

    dropSource(source, error) {
      // A source already given up on: its other files' failures (its channel closed with it) are no news.
      if (this.edges.failed.has(source.url)) return;
      this.record(error, source);
      if (this.edges.drop(source)) this.edges.report(source, error);
      if (this.transports.has(source.url)) this.transports.get(source.url).close();
    }

    /* How the files of `source` reach this page: over HTTP, or through a data channel the tracker
     * connects when the edge is behind NAT or the page is https and the edge plain http. */
    transport(source) {
      if (!this.transports.has(source.url)) {
        this.transports.set(source.url, SlipstreamWebRTC.needed(source, location)
          ? SlipstreamWebRTC.transport(source, () => this.edges.iceServers, (stale) => this.edges.renew(stale))
          : SlipstreamVerify.httpTransport(source.url, (name) => this.fileUrl(source, name)));
      }
      return this.transports.get(source.url);
    }

    async start() {
      try {
        await parts;
        this.edges = new SlipstreamSources(this.tracker, this.videoId,
          async (url) => (await fetchOk(url, this.options.timeoutMs)).json());
        this.stats = new SlipstreamStats();
        if (!VIDEO_ID.test(this.videoId || "")) {
          throw new SlipstreamError("bad_id", "A video id is 40 lowercase hex characters.");
        }
        this.setState("finding", "Finding an edge…");
        // The page may carry the tracker's answer (pages.py boot): then no lookup.
        const known = this.options.sources;
        await this.edges.find(known && known.video_id === this.videoId ? known : null);
        this.setState("verifying", "Checking the video against its id…");
        for (const source of this.edges.list) {
          try {
            this.manifest = await this.loadManifest(source);
            this.edges.current = source;
            break;
          } catch (err) {
            this.dropSource(source, err);
          }
        }
        if (!this.manifest) {
          throw new SlipstreamError("no_valid_source", "No edge sent a manifest matching this video's id.");
        }
        this.setState("loading", "Loading…");
        this.fetchAhead().catch(() => {});  // hls.js asks again for what fails here
        await this.attach();
      } catch (err) {
        this.fail(err);
      }
      return this;
    }

    /* The manifest from one edge, refused unless its bytes hash to the video id. */
    async loadManifest(source) {
      // A few kilobytes: the first-byte budget is enough, so a frozen edge does not delay the start.
      const budget = this.options.firstByteMs || FIRST_BYTE_MS;
      const bytes = await this.transport(source).get("manifest.json", null, new AbortController().signal, null,
        {firstByteMs: budget, stallMs: budget});
      const manifest = await SlipstreamVerify.manifest(bytes, this.videoId, source.url);
      this.stats.count(source, bytes.length);
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
      if (this.manifest.poster && !this.video.poster) this.showPoster(this.manifest.poster);
      if (Hls && Hls.isSupported()) {
        this.mode = "mse";
        this.startHls(Hls, this.source, this.options.startPosition || -1);
      } else if (this.video.canPlayType(HLS_MIME)) {
        // Safari on iOS has no MSE: the browser fetches the media itself, so only the manifest is checked.
        this.mode = "native";
        this.record(new SlipstreamError("verification_off",
          "This browser plays HLS natively: segments are not checked against the manifest."));
        this.video.addEventListener("error", () => this.failOver(new SlipstreamError("media_error",
          "the browser could not play the stream from " + this.source.url)));
        this.video.src = this.fileUrl(this.source, "master.m3u8");
      } else {
        throw new SlipstreamError("unsupported", "This browser cannot play HLS video.");
      }
      if (this.options.autoplay) this.autoplay();
    }

    /* The poster straight from the edge over HTTP; from a channel's edge, checked bytes as a blob: URL. */
    showPoster(name) {
      if (!SlipstreamWebRTC.needed(this.source, location)) {
        this.video.poster = this.fileUrl(this.source, name);
        return;
      }
      this.fetchVerified(this.fileUrl(this.source, name), new AbortController().signal, null, null).then((bytes) => {
        if (!this.video.poster) this.video.poster = URL.createObjectURL(new Blob([bytes]));
      }, () => {});  // no poster is no loss
    }

    /* hls.js settings: every request goes through the verifying loader; `options.hls` adds to them
     * (a host page may, say, shorten the buffer with {maxBufferLength: 10}). */
    hlsConfig(startPosition) {
      const Loader = SlipstreamVerify.loader(this.fetchVerified.bind(this));
      return Object.assign({
        startPosition: startPosition,
        capLevelToPlayerSize: true,  // no 720p segments for a 320-pixel-wide embed
        // Our packages are fragmented MP4, which hls.js passes through without transmuxing: its worker
        // (a second copy of hls.js, booted at the start) only delayed the first frame (bench/first_frame.py).
        enableWorker: false,
      }, this.options.hls || {}, {loader: Loader, pLoader: Loader, fLoader: Loader});
    }

    startHls(Hls, source, startPosition) {
      const hls = new Hls(this.hlsConfig(startPosition));
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (event, data) => this.onHlsError(Hls, hls, data));
      // Start with the variant fetched ahead (hls.js sorts its levels, so it is found by name); the
      // listener runs before hls.js starts loading (its playlist loader's checkAutostartLoad).
      hls.once(Hls.Events.MANIFEST_PARSED, (event, data) => {
        const level = data.levels.findIndex((l) => this.fileName(l.uri || l.url) === this.startVariant);
        if (level >= 0 && (this.options.hls || {}).startLevel === undefined) hls.startLevel = level;
      });
      hls.loadSource(this.fileUrl(source, "master.m3u8"));
      hls.attachMedia(this.video);
    }

    onHlsError(Hls, hls, data) {
      if (this.hls !== hls) return;
      const error = new SlipstreamError(data.details || data.type,
        (data.error && data.error.message) || data.details || "playback error");
      if (!data.fatal) {
        // Not failures: a buffer running dry (counted in `stalls`; the video fires `waiting` too),
        // a fragment fetched again at another quality landing on media already buffered, and the
        // start nudged past the first fraction of a second, where the separate audio rendition's
        // first sample and the video's first frame (after B-frame delay) do not overlap yet.
        const benign = [Hls.ErrorDetails.BUFFER_APPEND_NO_PROGRESS, Hls.ErrorDetails.BUFFER_SEEK_OVER_HOLE];
        if (data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) this.stalls += 1;
        else if (!benign.includes(data.details)) this.record(error, this.source);
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
      this.edges.drop(this.source);
      const next = this.edges.next(new Set());
      if (!next) {
        this.fail(new SlipstreamError("no_sources_left", "Every edge holding this video failed."));
        return;
      }
      const position = this.video.currentTime || 0;
      this.edges.current = next;
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
      this.record(error);
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

  global.Slipstream = {play, Player, loadScript, loadHls, VIDEO_ID};
  // The parts' public names join as soon as the parts are there (at once on this site's pages); a
  // part that could not load fails every player's start(), which reports it.
  parts.then(() => Object.assign(global.Slipstream, {PlayerError: SlipstreamError,
    sha256: SlipstreamVerify.sha256, videoIdOf: SlipstreamVerify.videoIdOf}), () => {});
})(window);
