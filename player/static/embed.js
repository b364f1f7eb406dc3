/* Embed page: only the player, filling the iframe. */
(function () {
  "use strict";
  const {setStatus, trackerUrl} = window.SlipstreamSite;
  const stage = document.querySelector(".embed-stage");
  const status = document.getElementById("player-status");
  const player = window.Slipstream.play(document.getElementById("player"), {
    tracker: trackerUrl(),
    videoId: stage.dataset.videoId,
    // Embeds play on load unless the host page asks otherwise, as with ?autoplay=0 on other sites.
    autoplay: new URLSearchParams(location.search).get("autoplay") !== "0",
  });
  window.slipstreamPlayer = player;
  player.on("state", (detail) => {
    const shown = detail.state === "failed" || detail.state === "finding" || detail.state === "verifying";
    setStatus(status, shown ? detail.message : "", detail.state === "failed" ? "error" : "");
  });
})();
