/* Upload page: placement from the tracker, the file straight to the chosen edge (resumable, tus 1.0,
 * with resumable.js; the multipart form for an edge without tus), then transcoding. */
(function () {
  "use strict";
  const {postJson, api, setStatus} = window.SlipstreamSite;
  const {SlipstreamError} = window;
  const POLL_MS = 500;
  const form = document.getElementById("upload-form");
  const submit = document.getElementById("upload-submit");
  const status = document.getElementById("upload-status");
  const uploadBar = document.getElementById("progress-upload");
  const transcodeBar = document.getElementById("progress-transcode");

  function showSent(uploadUrl, fraction) {
    uploadBar.value = fraction;
    setStatus(status, "Uploading to " + new URL(uploadUrl).host + "… " + Math.floor(100 * fraction) + " %");
  }

  /* The file through tus, so a broken connection resumes where the edge's copy ends. */
  async function sendResumable(uploadUrl, ticket, file) {
    try {
      return await window.SlipstreamResumable.upload(uploadUrl, ticket, file, {
        onProgress: (fraction) => showSent(uploadUrl, fraction),
        onRetry: (seconds) => setStatus(status, "The connection to the edge broke; resuming in " + seconds + " s…"),
      });
    } catch (err) {
      if (err.code !== "not_tus") throw err;
      return send(uploadUrl, ticket, file);
    }
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

  async function upload(file, fields) {
    setStatus(status, "Finding an edge with room…");
    const placement = await postJson("/api/v1/uploads", Object.assign({size: file.size}, fields));
    setStatus(status, "Uploading to " + new URL(placement.upload_url).host + "…");
    const job = await sendResumable(placement.upload_url, placement.ticket, file);
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
    const fields = {title: title, description: form.elements.description.value.trim()};
    const creator = form.elements.creator.value.trim();
    if (creator) fields.creator = creator;
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
})();
