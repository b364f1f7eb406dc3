/* The edges that hold one video, for slipstream-player.js: which one to fetch a file from next, and
 * which ones to stop using.
 *
 * The tracker lists them best first. A file comes from the source in use while it works, else from
 * the first one in the tracker's order not yet given up on; a source that sent bad bytes, an HTTP
 * error or nothing in time is given up on for good and reported to the tracker, which then ranks it
 * down for every viewer. Edges come and go, so once every source has failed the tracker is asked again.
 */
(function (global) {
  "use strict";
  const {SlipstreamError} = global;

  const REFRESH_MS = 2000;  // at most one new sources request per this, once every edge failed

  class Sources {
    /* getJson(url): the tracker's JSON answer, with the player's timeout and errors. */
    constructor(tracker, videoId, getJson) {
      this.tracker = tracker;
      this.api = tracker + "/api/v1/videos/" + videoId;
      this.getJson = getJson;
      this.list = [];          // the tracker's answer, best first: [{node, url, reach?, connect?, token?}]
      this.iceServers = [];    // the tracker's STUN servers, for sources reached through a data channel
      this.foundBy = null;     // the tracker that found them (for the donation split)
      this.current = null;     // the source in use
      this.failed = new Set(); // urls of sources given up on
      this.refreshedAt = 0;
    }

    /* The tracker's sources answer: `known` if the page carried it, else asked for. */
    async find(known) {
      const answer = known || await this.getJson(this.api + "/sources");
      this.list = Array.isArray(answer.sources) ? answer.sources : [];
      this.iceServers = Array.isArray(answer.ice_servers) ? answer.ice_servers : [];
      this.foundBy = answer.found_by || this.tracker;
      if (!this.list.length) {
        throw new SlipstreamError("no_sources", "No edge holds this video right now.");
      }
    }

    /* The source to try next for one file, or null: the one in use first, then the tracker's order. */
    next(tried) {
      const usable = (s) => !this.failed.has(s.url) && !tried.has(s.url);
      if (this.current && usable(this.current)) return this.current;
      return this.list.find(usable) || null;
    }

    /* Adds the sources the tracker knows now, at most every REFRESH_MS. */
    async refresh() {
      if (performance.now() - this.refreshedAt < REFRESH_MS) return;
      this.refreshedAt = performance.now();
      const answer = await this.getJson(this.api + "/sources");
      const known = new Map(this.list.map((s) => [s.url, s]));
      // A known source keeps its place, but takes the new lookup's token: the old one lives 120 s.
      (answer.sources || []).forEach((s) => (known.has(s.url) ? Object.assign(known.get(s.url), {token: s.token})
        : this.list.push(s)));
      if (Array.isArray(answer.ice_servers)) this.iceServers = answer.ice_servers;
    }

    /* A fresh token for `source` (a data channel's: tokens live 120 s), from a new lookup. */
    async renew(source) {
      const answer = await this.getJson(this.api + "/sources");
      const fresh = (answer.sources || []).find((s) => s.url === source.url);
      if (fresh && fresh.token) source.token = fresh.token;
      if (Array.isArray(answer.ice_servers)) this.iceServers = answer.ice_servers;
    }

    /* Never use `source` again; true the first time, when it is worth reporting. */
    drop(source) {
      if (this.failed.has(source.url)) return false;
      this.failed.add(source.url);
      return true;
    }

    report(source, error) {
      // A connect the tracker refused for this viewer's sake (rate limit, stale token) says nothing of the edge.
      if (!source.node || error.edgeAtFault === false) return;
      const reason = error.code === "bad_manifest" ? "hash_mismatch"
        : error.code === "timeout" ? "timeout" : error.code === "hash_mismatch" ? "hash_mismatch" : "http_error";
      // keepalive: the report still goes out if the viewer closes the page right now.
      fetch(this.api + "/reports", {
        method: "POST", credentials: "omit", keepalive: true,
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({node: source.node, reason: reason}),
      }).catch(() => {});
    }
  }

  global.SlipstreamSources = Sources;
})(window);
