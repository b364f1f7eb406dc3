/* What slipstream-player.js checks before it believes an edge: no edge is trusted, only the video's id.
 *
 * The id is the first 20 bytes of the SHA-256 of manifest.json, so `manifest` refuses any manifest
 * but the one that id names; the manifest holds the size and SHA-256 of every file, so `fetchChecked`
 * refuses any other bytes. `loader` makes the hls.js Loader whose every request is answered by the
 * player's `fetchVerified` (checked bytes, from whichever source sends them intact).
 */
(function (global) {
  "use strict";
  const {SlipstreamError} = global;

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* SHA-256 of an ArrayBuffer or Uint8Array, as bytes. crypto.subtle only exists on https and
   * localhost pages; on a site reached over plain http on a LAN, slipstream-player.js has loaded the
   * plain-JS sha256.js instead. */
  async function sha256(data) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    if (global.crypto && global.crypto.subtle) {
      return new Uint8Array(await global.crypto.subtle.digest("SHA-256", bytes));
    }
    return global.SlipstreamSha256(bytes);
  }

  async function videoIdOf(manifestBytes) {
    return hex((await sha256(manifestBytes)).subarray(0, 20));
  }

  /* The manifest in `bytes`, sent by the edge at `from`, refused unless they hash to `videoId`. */
  async function manifest(bytes, videoId, from) {
    if (await videoIdOf(bytes) !== videoId) {
      throw new SlipstreamError("bad_manifest", "the manifest from " + from + " does not hash to the video id");
    }
    let parsed;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch (err) {
      throw new SlipstreamError("bad_manifest", "the manifest from " + from + " is not JSON");
    }
    if (!parsed || typeof parsed.files !== "object" || !parsed.files["master.m3u8"]) {
      throw new SlipstreamError("bad_manifest", "the manifest from " + from + " lists no master playlist");
    }
    return parsed;
  }

  /* The manifest's {size, sha256} of the file `name` (null: `url` names none), else refused. */
  function expected(files, name, url) {
    const entry = name !== null && Object.prototype.hasOwnProperty.call(files, name) ? files[name] : null;
    if (!entry) throw new SlipstreamError("not_in_manifest", url + " is not a file of this video");
    return entry;
  }

  /* One GET of one file, refused past `size` bytes, with `limits.firstByteMs` to the first byte and
   * `limits.stallMs` between chunks. `stats` (hls.js's LoaderStats, or null) follows the transfer.
   * A `size` of null (the manifest, whose size nothing names) takes the whole body within `firstByteMs`. */
  async function download(url, name, size, signal, stats, limits) {
    const controller = new AbortController();
    const stop = () => controller.abort();
    signal.addEventListener("abort", stop);
    let timedOut = false, timer = null;
    const arm = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => { timedOut = true; controller.abort(); }, ms);
    };
    arm(limits.firstByteMs);
    try {
      // "same-origin": no cookies to an edge (another origin), and the mode of the page's preloads
      // (player/templates/player/boot.html), so the manifest and master they fetched are used, not fetched again.
      const response = await fetch(url, {signal: controller.signal, credentials: "same-origin"});
      if (!response.ok) throw new SlipstreamError("http_error", response.status + " from " + url, response.status);
      if (size === null) return new Uint8Array(await response.arrayBuffer());
      if (stats) {
        stats.loading.first = Math.max(performance.now(), stats.loading.start);
        stats.total = size;
      }
      const bytes = new Uint8Array(size);
      const reader = response.body.getReader();
      let length = 0;
      for (;;) {
        arm(limits.stallMs);
        const {done, value} = await reader.read();
        if (done) break;
        if (length + value.length > size) {
          reader.cancel().catch(() => {});
          throw new SlipstreamError("hash_mismatch", name + " from " + url + " is longer than the manifest says");
        }
        bytes.set(value, length);
        length += value.length;
        if (stats) {
          stats.loaded = length;
          stats.chunkCount += 1;
        }
      }
      if (length !== size) {
        throw new SlipstreamError("hash_mismatch", name + " from " + url + " is shorter than the manifest says");
      }
      // The transfer's end, not the hash's: hls.js estimates bandwidth from these times.
      if (stats) stats.loading.end = performance.now();
      return bytes;
    } catch (err) {
      if (err instanceof SlipstreamError) throw err;
      if (timedOut) throw new SlipstreamError("timeout", "timed out: " + url);
      if (signal.aborted) throw err;
      throw new SlipstreamError("http_error", "could not load " + url + " (" + err.message + ")");
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", stop);
    }
  }

  /* How one source's files arrive over HTTP, from `urlOf(name)`; player-webrtc.js makes the other kind,
   * through a data channel. `get(name, size, signal, stats, limits)` resolves to the file's bytes. */
  function httpTransport(label, urlOf) {
    return {
      label: label,
      get: (name, size, signal, stats, limits) => download(urlOf(name), name, size, signal, stats, limits),
      close() {},
    };
  }

  /* The bytes of the file `name` from `transport`, refused unless they are the manifest's `entry`:
   * one check whichever way they came. */
  async function fetchChecked(transport, name, entry, signal, stats, limits) {
    const bytes = await transport.get(name, entry.size, signal, stats, limits);
    if (bytes.length !== entry.size || hex(await sha256(bytes)) !== entry.sha256) {
      throw new SlipstreamError("hash_mismatch", name + " from " + transport.label + " does not match the manifest");
    }
    return bytes;
  }

  /* Fields of hls.js's LoaderStats (hls.d.ts), which its bandwidth estimate reads. */
  function newStats() {
    return {aborted: false, loaded: 0, retry: 0, total: 0, chunkCount: 0, bwEstimate: 0,
      loading: {start: 0, first: 0, end: 0}, parsing: {start: 0, end: 0}, buffering: {start: 0, first: 0, end: 0}};
  }

  /* An hls.js Loader (hls.d.ts: load(context, config, callbacks), abort, destroy, context, stats)
   * whose bytes come from `fetchVerified(url, signal, stats, loadPolicy)`. The response keeps the
   * URL hls.js asked for, so relative URIs in playlists still resolve there and map back to
   * manifest names whichever edge sent the bytes. */
  function loader(fetchVerified) {
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
        fetchVerified(context.url, signal, stats, config.loadPolicy).then((bytes) => {
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

  global.SlipstreamVerify = {sha256, videoIdOf, manifest, expected, httpTransport, fetchChecked, loader};
})(window);
