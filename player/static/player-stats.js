/* What the edges delivered to this viewer, for slipstream-player.js: the bytes each one served,
 * counted only once they matched the manifest, because the donation split pays edges by them
 * (donate.js sends `served`); and the last files delivered, for tests and diagnostics. */
(function (global) {
  "use strict";

  const DELIVERIES_KEPT = 200;

  class Stats {
    constructor() {
      this.served = {};        // node id -> verified bytes it delivered
      this.deliveries = [];    // the last verified files: {name, node, bytes}
    }

    /* An edge without a node id is counted under its URL, which donate.js leaves out: only signed edges are paid. */
    count(source, bytes) {
      const key = source.node || source.url;
      this.served[key] = (this.served[key] || 0) + bytes;
    }

    delivered(source, name, bytes) {
      this.count(source, bytes);
      this.deliveries.push({name: name, node: source.node || source.url, bytes: bytes});
      if (this.deliveries.length > DELIVERIES_KEPT) this.deliveries.shift();
    }
  }

  global.SlipstreamStats = Stats;
})(window);
