/* The one error type of Slipstream's scripts (the player, the site's pages, the tus client), so that
 * a caller tells failures apart the same way everywhere: by `code`, a stable word to branch on, and
 * `status`, the HTTP status of the answer behind it, 0 when no answer came or none was asked for. */
(function (global) {
  "use strict";

  class SlipstreamError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status || 0;
    }
  }

  global.SlipstreamError = SlipstreamError;
})(window);
