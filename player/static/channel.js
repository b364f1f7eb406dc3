/* A channel's public page: its name, description and public videos from the tracker, and a donate
 * form whose gifts go to the channel's account (through its newest video, see donate.js). */
(function () {
  "use strict";
  const {api, card, setStatus} = window.SlipstreamSite;
  const section = document.querySelector(".channel");
  const channel = section.dataset.channel;
  const status = document.getElementById("channel-status");

  async function load() {
    try {
      const answer = await api("/api/v1/channels/" + channel);
      const name = answer.name || "Unnamed channel";
      document.getElementById("channel-name").textContent = name;
      document.title = name + " · " + document.title.split(" · ").pop();
      document.getElementById("channel-description").textContent = answer.description || "";
      const videos = answer.videos || [];
      document.getElementById("channel-videos").replaceChildren(...videos.map(card));
      setStatus(status, videos.length ? "" : "This channel has no public videos yet.");
      if (videos.length) {
        document.getElementById("donate-form").dataset.videoId = videos[0].id;
        document.getElementById("channel-donate").hidden = false;
      }
    } catch (err) {
      document.getElementById("channel-name").textContent =
        err.status === 404 ? "This channel is not known to this tracker" : "Could not load this channel";
      setStatus(status, err.status === 404 ? "" : err.message, "error");
    }
  }

  load();
})();
