/* Resumable uploads to an edge with tus 1.0 (https://tus.io/protocols/resumable-upload), in plain JS.
 *
 *   const job = await SlipstreamResumable.upload(placement.upload_url, placement.ticket, file,
 *                                                {onProgress: (fraction) => …, onRetry: (seconds) => …});
 *   // job: {job, status_url}, as the plain multipart upload answers
 *
 * Creation is a POST to the placement's upload_url (Upload-Length, Upload-Metadata with the ticket
 * and the file name) answered by 201 and a Location; the bytes go in PATCHes from the offset the
 * edge has. When a transfer breaks (network gone, edge restarted) it asks the edge for its offset
 * (HEAD) and goes on from there, with growing pauses, until no progress is made for MAX_TRIES
 * attempts. The last PATCH (or a later HEAD) names the job in Slipstream-Job and Slipstream-Status-Url.
 * An edge that does not speak tus answers the creation without `Tus-Resumable`: that is a
 * SlipstreamError with code "not_tus", and the caller can fall back to the multipart form.
 * Needs error.js, loaded before this file.
 */
(function (global) {
  "use strict";

  const TUS = "1.0.0";
  const CHUNK = 16 * 1024 * 1024;  // bytes per PATCH: progress survives a drop even without the edge's partial write
  const MAX_TRIES = 8;
  const PAUSES_MS = [500, 1000, 2000, 4000, 8000];
  const {SlipstreamError} = global;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const base64 = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

  /* One request with XMLHttpRequest (the one API with upload progress); resolves to the xhr for any
   * HTTP answer, rejects with status 0 when no answer came. */
  function request(method, url, headers, body, onUploaded) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.responseType = "json";
      Object.entries(Object.assign({"Tus-Resumable": TUS}, headers)).forEach(([k, v]) => xhr.setRequestHeader(k, v));
      if (onUploaded) xhr.upload.addEventListener("progress", (event) => onUploaded(event.loaded));
      xhr.addEventListener("load", () => resolve(xhr));
      xhr.addEventListener("error", () => reject(new SlipstreamError("unreachable", "the connection to the edge broke")));
      xhr.addEventListener("abort", () => reject(new SlipstreamError("aborted", "the upload was aborted")));
      xhr.send(body === undefined ? null : body);
    });
  }

  function refused(xhr, what) {
    const body = xhr.response || {};
    return new SlipstreamError(body.error || "http_" + xhr.status,
      body.message || "The edge refused the " + what + " (" + xhr.status + ").", xhr.status);
  }

  const jobOf = (xhr) => xhr.getResponseHeader("Slipstream-Job") && {
    job: xhr.getResponseHeader("Slipstream-Job"),
    status_url: xhr.getResponseHeader("Slipstream-Status-Url"),
  };

  /* Create the upload on the edge; resolves to its URL. */
  async function create(uploadUrl, ticket, file) {
    const xhr = await request("POST", uploadUrl, {
      "Upload-Length": String(file.size),
      "Upload-Metadata": "ticket " + base64(ticket) + ",filename " + base64(file.name),
    });
    if (xhr.status !== 201 && !xhr.getResponseHeader("Tus-Resumable")) {
      throw new SlipstreamError("not_tus", "this edge takes only the multipart form", xhr.status);
    }
    if (xhr.status !== 201 || !xhr.getResponseHeader("Location")) throw refused(xhr, "upload");
    return new URL(xhr.getResponseHeader("Location"), uploadUrl).href;
  }

  /* Send `file` to an upload created at `location`, from whatever offset the edge has. */
  async function transfer(location, file, options) {
    const onProgress = options.onProgress || (() => {});
    let offset = 0, stuck = 0;  // a new upload starts empty; after a break, null: ask the edge
    for (;;) {
      try {
        if (offset === null) {  // where the edge is, after a break
          const head = await request("HEAD", location, {});
          if (head.status !== 200) throw refused(head, "resumption");
          if (jobOf(head)) return jobOf(head);
          offset = Number(head.getResponseHeader("Upload-Offset"));
        }
        onProgress(offset / file.size);
        const end = Math.min(file.size, offset + CHUNK);
        const start = offset;
        const xhr = await request("PATCH", location, {
          "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset),
        }, file.slice(offset, end), (sent) => onProgress((start + sent) / file.size));
        if (xhr.status !== 204) throw refused(xhr, "upload");
        offset = Number(xhr.getResponseHeader("Upload-Offset"));
        stuck = 0;
        if (jobOf(xhr)) return jobOf(xhr);
      } catch (err) {
        // A 4xx is the edge's final answer, except 409 (our offset is stale: ask again) and 423
        // (a dropped request of ours still holds the upload); no answer or a 5xx may pass.
        const final = err.status >= 400 && err.status < 500 && err.status !== 409 && err.status !== 423;
        if (final || err.code === "aborted" || ++stuck > MAX_TRIES) throw err;
        const pause = PAUSES_MS[Math.min(stuck - 1, PAUSES_MS.length - 1)];
        if (options.onRetry) options.onRetry(pause / 1000, err);
        await sleep(pause);
        offset = null;
      }
    }
  }

  async function upload(uploadUrl, ticket, file, options) {
    return transfer(await create(uploadUrl, ticket, file), file, options || {});
  }

  // UploadError: the name pages elsewhere already catch it by.
  global.SlipstreamResumable = {upload, UploadError: SlipstreamError};
})(window);
