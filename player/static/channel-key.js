/* The website's channel: an Ed25519 key made and kept in this browser, and the documents it signs.
 *
 * A channel id is the public key in hex; a request the channel makes is
 * {"payload": {"channel", "timestamp", …}, "signature": hex of the Ed25519 signature over the
 * payload's canonical JSON}, byte for byte what Python's protocol/ids.canonical_json gives.
 *
 * The key is WebCrypto's Ed25519 where the browser has it, else @noble/ed25519 (served from the
 * project, loaded only then). What IndexedDB keeps is the 32-byte seed, not a non-extractable
 * CryptoKey: the owner must be able to export the key to a file (back-up, second device), and a
 * key nobody can read back is a channel lost with the browser's storage. The seed is the same one
 * Python's nacl.signing.SigningKey takes, so a script can sign with an exported key too.
 * Needs error.js, loaded before this file.
 */
(function (global) {
  "use strict";
  const {SlipstreamError} = global;
  const DB_NAME = "slipstream";
  const KEY = "channel";
  const NOBLE_URL = "/player/vendor/noble-ed25519.js";
  // PKCS #8 for an Ed25519 private key (RFC 8410 section 7) is this prefix and the 32-byte seed.
  const PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
  const FILE_KIND = "slipstream-channel-key";
  const WARNING = "This file IS your channel: whoever has it can upload, edit, delete and claim payouts as " +
    "your channel. Keep it private and safe. If you lose it, the channel is lost for good: nobody can recover it.";

  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  function fromHex(text) {
    if (typeof text !== "string" || !/^(?:[0-9a-f]{2})*$/.test(text)) throw new SlipstreamError("bad_hex", "not hex");
    return Uint8Array.from(text.match(/../g) || [], (pair) => parseInt(pair, 16));
  }

  /* Python's json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False): strings are
   * escaped alike by both, raw UTF-8 otherwise. Numbers other than safe integers are refused, since
   * Python and JS write floats differently (1e-07 / 1e-7, 1.0 / 1); so are lone surrogates, which
   * Python cannot encode as UTF-8. Keys sort by code point, as Python's str comparison does. */
  function canonicalJson(value) {
    if (value === null || typeof value === "boolean") return String(value);
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) throw new SlipstreamError("bad_number", "only integers can be signed: " + value);
      return String(value);
    }
    if (typeof value === "string") {
      if (value.isWellFormed && !value.isWellFormed()) throw new SlipstreamError("bad_text", "text with a lone surrogate cannot be signed");
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
    if (typeof value === "object") {
      const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort(byCodePoint);
      return "{" + keys.map((k) => canonicalJson(k) + ":" + canonicalJson(value[k])).join(",") + "}";
    }
    throw new SlipstreamError("bad_value", "cannot sign a " + typeof value);
  }

  function byCodePoint(a, b) {
    const x = Array.from(a, (c) => c.codePointAt(0)), y = Array.from(b, (c) => c.codePointAt(0));
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  }

  /* The two ways to sign, each {publicKey(seed), sign(seed, bytes)} on Uint8Arrays. */
  const webcrypto = {
    async available() {
      try {
        await crypto.subtle.importKey("pkcs8", pkcs8(new Uint8Array(32)), {name: "Ed25519"}, false, ["sign"]);
        return true;
      } catch (err) {
        return false;
      }
    },
    async publicKey(seed) {
      // An extractable import only long enough to read the public half from its JWK ("x").
      const key = await crypto.subtle.importKey("pkcs8", pkcs8(seed), {name: "Ed25519"}, true, ["sign"]);
      const jwk = await crypto.subtle.exportKey("jwk", key);
      return Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    },
    async sign(seed, bytes) {
      const key = await crypto.subtle.importKey("pkcs8", pkcs8(seed), {name: "Ed25519"}, false, ["sign"]);
      return new Uint8Array(await crypto.subtle.sign({name: "Ed25519"}, key, bytes));
    },
  };

  const noble = {
    module: null,
    async load() {
      // A dynamic import: the library is an ES module, fetched only by browsers that need it.
      noble.module = noble.module || await import(NOBLE_URL);
      return noble.module;
    },
    async available() {
      return Boolean(await noble.load());
    },
    async publicKey(seed) {
      return (await noble.load()).getPublicKeyAsync(seed);
    },
    async sign(seed, bytes) {
      return (await noble.load()).signAsync(bytes, seed);
    },
  };

  function pkcs8(seed) {
    return Uint8Array.from([...PKCS8_PREFIX, ...seed]);
  }

  let chosen = null;
  function engine() {
    chosen = chosen || webcrypto.available().then((yes) => (yes ? webcrypto : noble));
    return chosen;
  }

  /* IndexedDB: the key (store "keys"). Store "videos" once held the ids of this browser's uploads;
   * the owner's listing (POST /api/v1/channels/<id>/videos) names them all now, but a version-1
   * database has it already, so a new one is made alike. */
  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore("keys");
        request.result.createObjectStore("videos", {keyPath: "id"});
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(new SlipstreamError("storage", "this browser's storage is not available"));
    });
  }

  async function transact(store, mode, work) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(store, mode);
        const request = work(tx.objectStore(store));
        tx.oncomplete = () => resolve(request.result);
        tx.onerror = () => reject(new SlipstreamError("storage", String(tx.error)));
      });
    } finally {
      db.close();
    }
  }

  async function load() {
    const stored = await transact("keys", "readonly", (store) => store.get(KEY));
    return stored ? {channel: stored.channel, seed: fromHex(stored.seed)} : null;
  }

  async function save(seed) {
    const channel = hex(await (await engine()).publicKey(seed));
    await transact("keys", "readwrite", (store) => store.put({channel, seed: hex(seed), saved: Date.now()}, KEY));
    return {channel, seed};
  }

  function create() {
    return save(crypto.getRandomValues(new Uint8Array(32)));
  }

  async function exportFile() {
    const key = await load();
    if (!key) throw new SlipstreamError("no_key", "this browser has no channel key");
    const text = JSON.stringify({kind: FILE_KIND, warning: WARNING, channel: key.channel, seed: hex(key.seed)}, null, 2);
    return {name: "slipstream-channel-" + key.channel.slice(0, 12) + ".json", blob: new Blob([text + "\n"], {type: "application/json"})};
  }

  /* A key file's text → the saved key; refuses a file whose seed does not give its channel id. */
  async function importFile(text) {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new SlipstreamError("bad_key_file", "This file is not a channel key (not JSON).");
    }
    if (!parsed || parsed.kind !== FILE_KIND || !/^[0-9a-f]{64}$/.test(parsed.seed || "")) {
      throw new SlipstreamError("bad_key_file", "This file is not a Slipstream channel key.");
    }
    const seed = fromHex(parsed.seed);
    const channel = hex(await (await engine()).publicKey(seed));
    if (parsed.channel && parsed.channel !== channel) {
      throw new SlipstreamError("bad_key_file", "This key file is damaged: its key does not give its channel id.");
    }
    return save(seed);
  }

  /* Unix seconds, each newer than the last this browser signed for the channel: the tracker refuses a
   * timestamp not newer than the last it accepted (replays), and two clicks may fall in one second.
   * Kept in localStorage so that other tabs and reloads count on; a few seconds ahead of the clock at
   * worst, well inside the tracker's 300 s of skew. */
  function nextTimestamp(channel) {
    const name = "slipstream-channel-stamp-" + channel;
    const stamp = Math.max(Math.floor(Date.now() / 1000), (Number(localStorage.getItem(name)) || 0) + 1);
    localStorage.setItem(name, String(stamp));
    return stamp;
  }

  /* {"payload": {action, channel, timestamp, …fields}, "signature"} signed by `key` (default: the
   * stored one). `action` ("upload", "channel", "edit", "delete", "payout", "list") is the one endpoint the
   * document is for: a tracker refuses it anywhere else, so an edit cannot be replayed as a deletion. */
  async function sign(action, fields, key) {
    if (typeof action !== "string") throw new SlipstreamError("no_action", "a signed document must name its action");
    key = key || await load();
    if (!key) throw new SlipstreamError("no_key", "this browser has no channel key");
    const payload = Object.assign({}, fields, {action, channel: key.channel, timestamp: nextTimestamp(key.channel)});
    const bytes = new TextEncoder().encode(canonicalJson(payload));
    return {payload, signature: hex(await (await engine()).sign(key.seed, bytes))};
  }

  global.SlipstreamChannel = {
    load, create, exportFile, importFile, sign, canonicalJson, WARNING,
    // Both signers, so a test can hold each one to Python's verify.
    engines: {webcrypto, noble},
    engine: async () => ((await engine()) === webcrypto ? "webcrypto" : "noble"),
    hex, fromHex,
  };
})(window);
