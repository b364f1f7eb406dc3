/* Home: the newest videos or search results from the tracker's catalog, one page at a time. */
(function () {
  "use strict";
  const {api, card, setStatus} = window.SlipstreamSite;

  function pageLink(query, page) {
    const params = new URLSearchParams();
    if (query) params.set("q", query);
    if (page > 1) params.set("page", page);
    const text = params.toString();
    return location.pathname + (text ? "?" + text : "");
  }

  function renderPager(query, answer) {
    const pages = Math.max(1, Math.ceil(answer.total / answer.per_page));
    const pager = document.getElementById("pager");
    pager.hidden = pages <= 1;
    const prev = document.getElementById("pager-prev"), next = document.getElementById("pager-next");
    prev.hidden = answer.page <= 1;
    next.hidden = answer.page >= pages;
    prev.href = pageLink(query, answer.page - 1);
    next.href = pageLink(query, answer.page + 1);
    document.getElementById("pager-where").textContent = "Page " + answer.page + " of " + pages;
  }

  async function load() {
    const params = new URLSearchParams(location.search);
    const query = params.get("q") || "";
    const page = Math.max(1, parseInt(params.get("page"), 10) || 1);
    const status = document.getElementById("listing-status");
    const list = document.getElementById("videos");
    try {
      const answer = await api("/api/v1/videos?" + new URLSearchParams({q: query, page: page}));
      list.replaceChildren(...answer.videos.map(card));
      if (!answer.videos.length) {
        setStatus(status, query ? "No videos match “" + query + "”." : "No videos yet. Upload the first one!");
      } else {
        setStatus(status, answer.total + (answer.total === 1 ? " video" : " videos"));
        status.classList.add("visually-hidden");
      }
      renderPager(query, answer);
    } catch (err) {
      setStatus(status, "Could not load videos: " + err.message, "error");
    }
  }

  load();
})();
