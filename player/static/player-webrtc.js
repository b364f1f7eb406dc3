/* Files of one video over a WebRTC data channel, for an edge the page cannot fetch over HTTP: a home
 * computer behind NAT (the tracker lists it with `reach: "webrtc"`), or a plain-http edge seen from an
 * https page, which the browser's mixed-content rule forbids to fetch (README, "Home edges").
 *
 * One peer connection per edge, opened on the first file asked of it: the offer carries every ICE
 * candidate (no trickle), so the tracker relays exactly one round trip (POST <connect> with the
 * lookup's token). Requests are JSON text {id, path, range}; each answer is a JSON header {id, status,
 * size, length}, then `length` payload bytes in binary messages prefixed by the request's 4-byte id.
 * At most IN_FLIGHT requests are out at once; the rest wait in order. A request the player no longer
 * wants keeps its slot until its bytes have passed: the protocol has no cancel, and the edge sends them.
 *
 * Only transport: what the bytes are worth is decided by player-verify.js, as for HTTP.
 */
(function (global) {
  "use strict";
  const {SlipstreamError} = global;

  const LABEL = "slipstream";
  const IN_FLIGHT = 4;
  // Non-trickle ICE: the offer waits for gathering, which a STUN server that never answers stretches
  // to ~10 s; host and answered server-reflexive candidates come well within this.
  const GATHER_MS = 2000;
  // The tracker gives the edge 10 s to answer an offer before its 504; a little more for the POST itself.
  const CONNECT_MS = 12000;
  // From the edge's answer to an open channel: ICE checks, DTLS and SCTP handshakes, a few round trips.
  const OPEN_MS = 5000;
  // The least silence that makes a channel stuck, whatever the loader's budgets (1 s over HTTP): SCTP
  // resends a lost packet after at least 1 s (RFC 4960's RTO.Min), and meanwhile the ordered channel
  // delivers nothing; an edge's Python WebRTC stack on a busy machine was seen silent 0.6 s besides.
  const SILENCE_MS = 2000;
  const ID_BYTES = 4;
  const MAX_UNSIZED = 64 * 1024 * 1024;  // a file asked for before its size is known: the manifest

  const open = new Set();  // every live Peer, closed when the page goes away

  /* The tracker's error text for a failed connect, and whether it blames the edge (worth a report). */
  async function refusal(response, url) {
    let code = "connect_" + response.status, message = response.status + " from " + url;
    try {
      const body = await response.json();
      if (body && body.error) code = body.error;
      if (body && body.message) message = body.message;
    } catch (err) { /* not a JSON error body */ }
    const error = new SlipstreamError(code, message, response.status);
    // 504 edge_unreachable and 404 video_not_held are the edge's doing; a 429 or a stale token is not.
    error.edgeAtFault = response.status === 504 || response.status === 404;
    return error;
  }

  function deadline(ms, what) {
    let timer;
    const promise = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new SlipstreamError("timeout", "timed out: " + what)), ms);
    });
    return {promise, cancel: () => clearTimeout(timer)};
  }

  /* Resolves once ICE gathering is complete, or after GATHER_MS with what was gathered by then. */
  function gathered(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); resolve(); };
      const timer = setTimeout(done, GATHER_MS);
      pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && done());
    });
  }

  class Peer {
    constructor(pc, channel, label) {
      this.pc = pc;
      this.channel = channel;
      this.label = label;        // what errors name: the edge's URL
      this.nextId = 1;
      this.waiting = [];         // requests not yet sent: {message, request}
      this.inFlight = new Map(); // id → request, from sent until its last byte came
      this.closed = null;        // the SlipstreamError that ended it
      this.closedIdle = false;   // it ended with nothing asked of it: the edge's idle timeout, say
      this.watchdog = null;      // fires when the channel has been silent too long with requests out
      channel.addEventListener("message", (event) => this.receive(event.data));
      channel.addEventListener("close", () => this.close(new SlipstreamError("channel_closed", "the channel to " + label + " closed")));
      pc.addEventListener("connectionstatechange", () => {
        if (pc.connectionState === "failed") this.close(new SlipstreamError("channel_closed", "the connection to " + label + " failed"));
      });
      open.add(this);
    }

    /* A channel to the edge `source` names, through its tracker's connect URL. */
    static async connect(source, iceServers) {
      const pc = new RTCPeerConnection({iceServers: iceServers || []});
      const label = source.url || source.connect;
      try {
        const channel = pc.createDataChannel(LABEL, {ordered: true});
        channel.binaryType = "arraybuffer";
        await pc.setLocalDescription(await pc.createOffer());
        await gathered(pc);
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), CONNECT_MS);
        let response;
        try {
          response = await fetch(source.connect, {
            method: "POST", credentials: "omit", signal: controller.signal,
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({node: source.node, token: source.token,
              offer: {type: "offer", sdp: pc.localDescription.sdp}}),
          });
        } catch (err) {
          throw new SlipstreamError(err.name === "AbortError" ? "timeout" : "unreachable",
            "no answer from " + source.connect + " to connect " + label);
        } finally {
          clearTimeout(timer);
        }
        if (!response.ok) throw await refusal(response, source.connect);
        const answer = (await response.json()).answer;
        await pc.setRemoteDescription(answer);
        await Peer.opened(pc, channel, label);
        return new Peer(pc, channel, label);
      } catch (err) {
        pc.close();
        if (err instanceof SlipstreamError) throw err;
        throw new SlipstreamError("webrtc_failed", "could not connect to " + label + " (" + err.message + ")");
      }
    }

    static opened(pc, channel, label) {
      if (channel.readyState === "open") return Promise.resolve();
      const limit = deadline(OPEN_MS, "opening the channel to " + label);
      const opened = new Promise((resolve, reject) => {
        channel.addEventListener("open", resolve);
        channel.addEventListener("close", () => reject(new SlipstreamError("channel_closed", "the channel to " + label + " closed")));
        pc.addEventListener("connectionstatechange", () => pc.connectionState === "failed" &&
          reject(new SlipstreamError("webrtc_failed", "no network path to " + label)));
      });
      return Promise.race([opened, limit.promise]).finally(limit.cancel);
    }

    /* The bytes of the file `path` (its `range` [start, end] inclusive, or all of it), refused past
     * `size` bytes when `size` is not null; `limits.firstByteMs` to the answer's header and
     * `limits.stallMs` between chunks, as over HTTP. `stats` (hls.js's LoaderStats) follows it. */
    fetch(path, range, {size = null, signal = null, stats = null, limits}) {
      if (this.closed) return Promise.reject(this.closed);
      return new Promise((resolve, reject) => {
        const request = {path, size, stats, limits, resolve, reject, settled: false,
          header: null, bytes: null, received: 0};
        request.fail = (error) => this.settle(request, error);
        if (signal) {
          if (signal.aborted) return reject(new SlipstreamError("aborted", "aborted"));
          signal.addEventListener("abort", () => request.fail(new SlipstreamError("aborted", "aborted")));
        }
        const id = this.nextId++;
        this.waiting.push({id, request, message: JSON.stringify({id, path, range: range || null})});
        this.pump();
      });
    }

    pump() {
      while (!this.closed && this.waiting.length && this.inFlight.size < IN_FLIGHT) {
        const {id, request, message} = this.waiting.shift();
        if (request.settled) continue;  // aborted before it was sent: costs the edge nothing
        this.inFlight.set(id, request);
        this.watch();
        try {
          this.channel.send(message);
        } catch (err) {
          this.close(new SlipstreamError("channel_closed", "could not send to " + this.label));
        }
      }
    }

    /* The requests in flight share one ordered channel: an answer's header may wait behind a megabyte
     * of another's bytes, so no single request is late while the channel moves. Only a channel silent
     * for the first-byte budget (a request still without header) or the stall budget (else) is stuck,
     * and every request on it fails: the player drops the source, and this closes with it. */
    watch() {
      clearTimeout(this.watchdog);
      if (!this.inFlight.size || this.closed) return;
      const waits = Array.from(this.inFlight.values(), (r) => (r.header ? r.limits.stallMs : r.limits.firstByteMs));
      waits.push(SILENCE_MS);
      const oldest = this.inFlight.values().next().value;
      this.watchdog = setTimeout(() => this.close(new SlipstreamError("timeout",
        "timed out: " + oldest.path + " from " + this.label)), Math.max(...waits));
    }

    settle(request, error, bytes) {
      if (request.settled) return;
      request.settled = true;
      if (error) request.reject(error);
      else request.resolve(bytes);
    }

    receive(data) {
      try {
        if (typeof data === "string") this.header(JSON.parse(data));
        else this.chunk(data);
      } catch (err) {
        this.close(err instanceof SlipstreamError ? err
          : new SlipstreamError("bad_answer", this.label + " broke the channel's framing (" + err.message + ")"));
      }
    }

    header(head) {
      const request = this.inFlight.get(head && head.id);
      if (!request || request.header) throw new SlipstreamError("bad_answer", this.label + " answered a request not asked");
      if (!Number.isInteger(head.length) || head.length < 0) throw new SlipstreamError("bad_answer", this.label + " sent no length");
      request.header = head;
      if (head.status !== 200 && head.status !== 206) {
        // Any body it has still comes, and passes unread.
        request.fail(new SlipstreamError("http_error", head.status + " for " + request.path + " from " + this.label, head.status));
      } else if (request.size === null && head.length > MAX_UNSIZED) {
        request.fail(new SlipstreamError("bad_answer", request.path + " from " + this.label + " is too large"));
      } else if (request.size !== null && head.length !== request.size) {
        request.fail(new SlipstreamError("hash_mismatch", request.path + " from " + this.label + " is " +
          head.length + " bytes, not the manifest's " + request.size));
      } else if (request.stats) {
        request.stats.loading.first = Math.max(performance.now(), request.stats.loading.start);
        request.stats.total = head.length;
      }
      if (!request.settled) request.bytes = new Uint8Array(head.length);
      this.progress(head.id, request, 0);
    }

    chunk(buffer) {
      if (buffer.byteLength < ID_BYTES) throw new SlipstreamError("bad_answer", this.label + " sent a chunk with no id");
      const id = new DataView(buffer).getUint32(0);
      const request = this.inFlight.get(id);
      const length = buffer.byteLength - ID_BYTES;
      if (!request || !request.header || request.received + length > request.header.length) {
        throw new SlipstreamError("bad_answer", this.label + " sent bytes not asked for");
      }
      if (request.bytes && !request.settled) request.bytes.set(new Uint8Array(buffer, ID_BYTES), request.received);
      this.progress(id, request, length);
    }

    progress(id, request, length) {
      request.received += length;
      if (request.stats && !request.settled) {
        request.stats.loaded = request.received;
        request.stats.chunkCount += 1;
      }
      this.watch();
      if (request.received < request.header.length) return;
      this.inFlight.delete(id);
      if (request.stats && !request.settled) request.stats.loading.end = performance.now();
      this.settle(request, null, request.bytes);
      this.pump();
    }

    close(error) {
      if (this.closed) return;
      this.closedIdle = !this.inFlight.size && !this.waiting.length;
      this.closed = error || new SlipstreamError("channel_closed", "the channel to " + this.label + " was closed");
      clearTimeout(this.watchdog);
      open.delete(this);
      for (const request of this.inFlight.values()) this.settle(request, this.closed);
      for (const {request} of this.waiting) this.settle(request, this.closed);
      this.inFlight.clear();
      this.waiting = [];
      try {
        this.channel.close();
        this.pc.close();
      } catch (err) { /* already closed */ }
    }
  }

  const LOOPBACK = /^(localhost|.*\.localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

  /* Whether this page must reach `source` through the tracker's connect, not over HTTP: the tracker
   * says it is reachable only so, or it is plain http seen from an https page (mixed content), which
   * browsers refuse to fetch from any host but a loopback one. Sources of older trackers have no `reach`. */
  function needed(source, page) {
    if (!source.connect) return false;
    if (source.reach === "webrtc") return true;
    if (source.reach !== "http" || page.protocol !== "https:") return false;
    try {
      return !LOOPBACK.test(new URL(source.url).hostname);
    } catch (err) {
      return true;  // no usable URL: the channel is the only way
    }
  }

  /* How the files of `source` arrive through a channel, for player-verify.js: `get` as its HTTP
   * download does. The channel is opened on the first file; one the edge closed while idle is opened
   * again on the next (a channel broken during a request fails that request: the player moves on).
   * A token lives 120 s from its lookup, so a channel opened again after a pause may be refused 403:
   * then `renew()` looks the sources up again (updating `source.token`) and the connect is tried once more. */
  function transport(source, iceServers, renew) {
    let peer = null;
    return {
      label: source.url || source.connect,
      async get(name, size, signal, stats, limits) {
        if (!global.RTCPeerConnection) throw new SlipstreamError("webrtc_unsupported", "this browser has no WebRTC");
        if (peer) {
          const current = await peer;
          if (current.closed && current.closedIdle) peer = null;
        }
        if (!peer) {
          peer = Peer.connect(source, iceServers()).catch(async (err) => {
            if (err.status !== 403) throw err;
            await renew(source);
            return Peer.connect(source, iceServers());
          });
        }
        return (await peer).fetch(name, null, {size, signal, stats, limits});
      },
      close() {
        if (peer) peer.then((p) => p.close(), () => {});
        peer = null;
      },
    };
  }

  // Leaving the page ends its peer connections at once, rather than when the edge's 60 s idle timer
  // does; a page restored from the back/forward cache connects again on its next file.
  global.addEventListener("pagehide", () => Array.from(open).forEach((peer) => peer.close()));

  global.SlipstreamWebRTC = {Peer, needed, transport, IN_FLIGHT};
})(window);
