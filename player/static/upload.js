/* Upload page: a placement from the tracker (signed by this browser's channel key when it has one,
 * else anonymous), the file straight to the chosen edge with tus-js-client, then transcoding.
 *
 * Resuming: tus-js-client keeps each upload's URL in localStorage under the file's fingerprint, so
 * when the same file is chosen again after a closed tab or a reload, the page asks that edge where
 * its copy ends (HEAD) and sends only the rest, under the first placement's ticket and title. The
 * fingerprint leaves out the endpoint (tus-js-client's default has it), since every placement may
 * pick another edge. An upload whose ticket has expired is gone from the edge: it starts afresh. */
(function () {
  "use strict";
  const {postJson, api, setStatus} = window.SlipstreamSite;
  const {SlipstreamError, SlipstreamChannel, tus} = window;
  const POLL_MS = 500;
  const CHUNK = 16 * 1024 * 1024;  // bytes per PATCH: the edge keeps every whole PATCH, so a break loses at most one
  const form = document.getElementById("upload-form");
  const submit = document.getElementById("upload-submit");
  const status = document.getElementById("upload-status");
  const uploadBar = document.getElementById("progress-upload");
  const transcodeBar = document.getElementById("progress-transcode");
  const asChannel = document.getElementById("upload-as-channel");
  let channel = null;

  function showSent(uploadUrl, fraction) {
    uploadBar.value = fraction;
    setStatus(status, "Uploading to " + new URL(uploadUrl).host + "… " + Math.floor(100 * fraction) + " %");
  }

  const fingerprint = (file) => Promise.resolve(
    ["slipstream", file.name, file.type, file.size, file.lastModified].join("-"));

  /* The ticket's expiry (Unix s): a ticket is unpadded base64url of the signed document's JSON. */
  function ticketExpires(ticket) {
    try {
      const json = atob(ticket.replace(/-/g, "+").replace(/_/g, "/"));
      return Number(JSON.parse(json).payload.expires) || 0;
    } catch (err) {
      return 0;
    }
  }

  /* An earlier upload of this very file whose ticket still holds, as tus-js-client stored it. */
  async function previousUpload(file) {
    const probe = new tus.Upload(file, {fingerprint});
    const now = Date.now() / 1000;
    const found = await probe.findPreviousUploads();
    return found.find((p) => p.metadata && ticketExpires(p.metadata.ticket || "") > now + 60) || null;
  }

  /* The file through tus; resolves to {job, status_url}. `previous` resumes an earlier upload. */
  function sendResumable(file, target) {
    return new Promise((resolve, reject) => {
      const upload = new tus.Upload(file, {
        endpoint: target.endpoint || null,
        metadata: target.ticket ? {ticket: target.ticket, filename: file.name} : undefined,
        fingerprint,
        chunkSize: CHUNK,
        retryDelays: [500, 1000, 2000, 4000, 8000],
        removeFingerprintOnSuccess: true,
        onProgress: (sent, total) => showSent(upload.url || target.endpoint, sent / total),
        onShouldRetry: (err) => {
          const code = err.originalResponse ? err.originalResponse.getStatus() : 0;
          // A 4xx is the edge's final answer, except 409 (a stale offset) and 423 (a dropped request
          // of ours still holds the upload); no answer or a 5xx may pass.
          const retry = !(code >= 400 && code < 500) || code === 409 || code === 423;
          if (retry) setStatus(status, "The connection to the edge broke; resuming…");
          return retry;
        },
        onSuccess: ({lastResponse}) => resolve({
          job: lastResponse.getHeader("Slipstream-Job"),
          status_url: lastResponse.getHeader("Slipstream-Status-Url"),
        }),
        onError: (err) => reject(refusal(err)),
      });
      if (target.previous) upload.resumeFromPreviousUpload(target.previous);
      upload.start();
    });
  }

  function refusal(err) {
    const response = err.originalResponse;
    if (!response) return new SlipstreamError("unreachable", "the connection to the edge broke");
    let body = {};
    try {
      body = JSON.parse(response.getBody() || "{}") || {};
    } catch (parseError) {
      body = {};
    }
    const code = response.getStatus();
    // An edge that takes only the multipart form answers the creation without Tus-Resumable.
    if (!response.getHeader("Tus-Resumable")) return new SlipstreamError("not_tus", "this edge takes only the form", code);
    return new SlipstreamError(body.error || "http_" + code, body.message || "The edge refused the upload (" + code + ").", code);
  }

  /* multipart POST with XMLHttpRequest, the one browser API that reports upload progress. */
  function send(uploadUrl, ticket, file) {
    return new Promise((resolve, reject) => {
      const body = new FormData();
      body.append("ticket", ticket);
      body.append("file", file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", uploadUrl);
      xhr.responseType = "json";
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) showSent(uploadUrl, event.loaded / event.total);
      });
      xhr.addEventListener("load", () => {
        const answer = xhr.response || {};
        if (xhr.status === 202) resolve(answer);
        else reject(new SlipstreamError(answer.error || "http_" + xhr.status,
          answer.message || "The edge refused the upload (" + xhr.status + ").", xhr.status));
      });
      xhr.addEventListener("error", () => reject(new SlipstreamError("unreachable", "The upload to the edge failed.")));
      xhr.send(body);
    });
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /* The edge's job until it is published or failed; a few network hiccups are tolerated. */
  async function follow(statusUrl) {
    let misses = 0;
    for (;;) {
      let job;
      try {
        job = await api(statusUrl);
        misses = 0;
      } catch (err) {
        if (err.status || ++misses > 10) throw err;
        await sleep(POLL_MS * 2);
        continue;
      }
      transcodeBar.value = Number(job.progress) || 0;
      if (job.state === "published") return job;
      if (job.state === "failed") throw new SlipstreamError("failed", job.error || "Transcoding failed.", 422);
      setStatus(status, job.state === "queued" ? "Waiting for the edge to start transcoding…" : transcoding(job));
      await sleep(POLL_MS);
    }
  }

  function transcoding(job) {
    const percent = Math.floor((Number(job.progress) || 0) * 100) + " %";
    // The edge's estimate in seconds, while it has one (`eta`, an addition to the README's job fields).
    return typeof job.eta === "number" && job.eta >= 1
      ? "Transcoding… " + percent + ", about " + Math.ceil(job.eta) + " s left"
      : "Transcoding… " + percent;
  }

  /* A placement: signed by the channel (its payload names it) or the anonymous plain body. */
  async function place(file, fields) {
    const body = Object.assign({size: file.size}, fields);
    if (!channel || !asChannel.checked) return postJson("/api/v1/uploads", body);
    delete body.creator;
    return postJson("/api/v1/uploads", await SlipstreamChannel.sign("upload", body, channel));
  }

  async function transfer(file, fields) {
    const previous = await previousUpload(file);
    if (previous) {
      setStatus(status, "Resuming the earlier upload of this file…");
      try {
        return await sendResumable(file, {previous});
      } catch (err) {
        if (err.status !== 404 && err.status !== 410) throw err;  // the edge forgot it: start afresh
      }
    }
    setStatus(status, "Finding an edge with room…");
    const placement = await place(file, fields);
    setStatus(status, "Uploading to " + new URL(placement.upload_url).host + "…");
    try {
      return await sendResumable(file, {endpoint: placement.upload_url, ticket: placement.ticket});
    } catch (err) {
      if (err.code !== "not_tus") throw err;
      return send(placement.upload_url, placement.ticket, file);
    }
  }

  async function upload(file, fields) {
    const job = await transfer(file, fields);
    uploadBar.value = 1;
    setStatus(status, "Uploaded. Waiting for the edge to start transcoding…");
    const done = await follow(job.status_url);
    transcodeBar.value = 1;
    return done.video_id;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    const title = form.elements.title.value.trim();
    if (!file || !title) {
      setStatus(status, "");
      (file ? form.elements.title : form.elements.file).focus();
      form.reportValidity();
      return;
    }
    const fields = {title: title, visibility: form.elements.visibility.value};
    const description = form.elements.description.value.trim();
    if (description) fields.description = description;
    const creator = form.elements.creator.value.trim();
    if (creator) fields.creator = creator;
    if (!channel || !asChannel.checked) delete fields.visibility;  // an anonymous upload is public
    document.getElementById("upload-progress").hidden = false;
    document.getElementById("upload-done").hidden = true;
    uploadBar.value = 0;
    transcodeBar.value = 0;
    submit.disabled = true;
    try {
      const videoId = await upload(file, fields);
      setStatus(status, "Published.", "ok");
      const link = document.getElementById("watch-link");
      link.href = "/watch/" + encodeURIComponent(videoId);
      document.getElementById("upload-done").hidden = false;
      link.focus();
    } catch (err) {
      setStatus(status, "Upload failed: " + err.message, "error");
    } finally {
      submit.disabled = false;
    }
  });

  /* With a channel key, uploads go out as the channel (its name, visibility); the creator field is
   * only for anonymous ones. */
  function showChannel() {
    const box = document.getElementById("upload-channel");
    box.hidden = !channel;
    document.getElementById("upload-no-channel").hidden = Boolean(channel);
    if (channel) document.getElementById("upload-channel-id").textContent = channel.channel.slice(0, 16) + "…";
    const signed = Boolean(channel) && asChannel.checked;
    document.getElementById("upload-creator-field").hidden = signed;
    document.getElementById("upload-visibility-field").hidden = !signed;
  }

  asChannel.addEventListener("change", showChannel);
  SlipstreamChannel.load().then((key) => {
    channel = key;
    showChannel();
  }, () => showChannel());
})();
