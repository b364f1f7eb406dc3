/* Watch page: the video's metadata from the tracker, and the Slipstream player. */
(function () {
  "use strict";
  const {api, boot, el, formatDate, setStatus, trackerUrl} = window.SlipstreamSite;
  const article = document.querySelector(".watch");
  const videoId = article.dataset.videoId;
  const status = document.getElementById("player-status");
  const CHANNEL_ID = /^[0-9a-f]{64}$/;

  const carried = boot(videoId);  // the tracker's answers, in the page: no lookups before the first frame

  async function showMetadata() {
    try {
      const video = carried ? carried.video : await api("/api/v1/videos/" + videoId);
      document.getElementById("video-title").textContent = video.title || "Untitled";
      document.title = (video.title || "Untitled") + " · " + document.title.split(" · ").pop();
      showCreator(video);
      document.getElementById("video-date").textContent = video.created ? formatDate(video.created) : "";
      document.getElementById("video-description").textContent = video.description || "";
    } catch (err) {
      const title = err.status === 404 ? "This video is not known to this tracker" : "Could not load this video";
      document.getElementById("video-title").textContent = title;
      document.getElementById("video-description").textContent = err.status === 404 ? "" : err.message;
      if (err.status === 404) article.querySelectorAll("details").forEach((box) => { box.hidden = true; });
    }
  }

  /* A channel's video links to the channel's page; an anonymous one names its free-text creator. */
  function showCreator(video) {
    const creator = document.getElementById("video-creator");
    if (!CHANNEL_ID.test(video.channel || "")) {
      creator.textContent = video.creator || "anonymous";
      return;
    }
    const label = video.channel_name || (video.creator && video.creator !== "anonymous" ? video.creator
      : "Channel " + video.channel.slice(0, 12) + "…");
    creator.replaceChildren(el("a", {id: "video-channel", href: "/c/" + video.channel}, label));
  }

  function showSource(player) {
    const info = document.getElementById("source-info");
    if (!player.source) return;
    const others = player.sources.length - 1;
    info.replaceChildren(
      "Streaming from ", el("code", {}, new URL(player.source.url).host),
      others > 0 ? " (" + others + " more " + (others === 1 ? "edge" : "edges") + " hold it)" : "",
      ", found by ", el("code", {}, new URL(player.foundBy).host), ". ",
      player.mode === "native"
        ? "This browser plays HLS itself, so only the manifest was checked against the video id."
        : "Every file is checked against the manifest, which matched the video id.",
      player.failed.size ? " " + player.failed.size + " failing " + (player.failed.size === 1 ? "edge was" : "edges were")
        + " dropped and reported." : "");
  }

  const player = window.Slipstream.play(document.getElementById("player"),
    {tracker: trackerUrl(), videoId, sources: carried && carried.sources});
  window.slipstreamPlayer = player;
  // Our own seek bar under the video, with preview thumbnails (the native one cannot be hooked).
  window.SlipstreamThumbnails.attach(player, document.querySelector(".stage"));
  player.on("state", (detail) => {
    setStatus(status, detail.state === "playing" ? "" : detail.message, detail.state === "failed" ? "error" : "");
    showSource(player);
  });
  player.on("source", () => showSource(player));  // the loader moved to another edge
  showMetadata();
})();
