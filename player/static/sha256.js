/* SHA-256 in plain JavaScript, for pages without crypto.subtle (plain http outside localhost).
 * slipstream-player.js loads it only there; about 15 ms per MiB. */
(function (global) {
  "use strict";

  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  const K = new Uint32Array(64), H0 = new Uint32Array(8);
  (function initConstants() {
    // FIPS 180-4 section 4.2.2 / 5.3.3: fractional parts of the cube / square roots of the first primes.
    for (let n = 2, found = 0; found < 64; n++) {
      let prime = true;
      for (let d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
      if (!prime) continue;
      if (found < 8) H0[found] = (Math.pow(n, 1 / 2) % 1) * 4294967296;
      K[found++] = (Math.pow(n, 1 / 3) % 1) * 4294967296;
    }
  })();

  /* SHA-256 of a Uint8Array, as a Uint8Array of 32 bytes (FIPS 180-4). */
  function sha256(bytes) {
    const length = bytes.length;
    const padded = new Uint8Array((((length + 8) >> 6) + 1) << 6);
    padded.set(bytes);
    padded[length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
    view.setUint32(padded.length - 4, (length << 3) >>> 0);
    const H = H0.slice(), W = new Uint32Array(64);
    for (let offset = 0; offset < padded.length; offset += 64) {
      for (let i = 0; i < 16; i++) W[i] = view.getUint32(offset + i * 4);
      for (let i = 16; i < 64; i++) {
        const a = W[i - 15], b = W[i - 2];
        W[i] = W[i - 16] + (rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)) + W[i - 7] + (rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10));
      }
      let [a, b, c, d, e, f, g, h] = H;
      for (let i = 0; i < 64; i++) {
        const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    const out = new DataView(new ArrayBuffer(32));
    H.forEach((word, i) => out.setUint32(i * 4, word));
    return new Uint8Array(out.buffer);
  }

  global.SlipstreamSha256 = sha256;
})(window);
