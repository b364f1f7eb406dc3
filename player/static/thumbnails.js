/* Seek-bar preview thumbnails and a scrubber of our own (the native <video controls> bar cannot be
 * hooked): `SlipstreamThumbnails.attach(player, after)` puts a range input after the element `after`
 * that shows the current time, seeks on click, drag and keys (arrows ±5 s, Page Up/Down ±10 %,
 * Home/End), and on hover, drag or a key shows a preview: the sprite-sheet cell of that time, from
 * the package's WebVTT thumbnail track (cues `sprite.jpg#xywh=x,y,w,h`), with the time.
 *
 * Both files come through `player.fetchVerified`, like every segment: from the edge in use, refused
 * unless size and SHA-256 match the manifest (then from the next edge). The sprite is shown from a
 * blob: URL of those checked bytes. No `thumbnails` in the manifest (audio-only): time only.
 */
(function (global) {
  "use strict";

  const THUMB_PX = 14;      // the range thumb's width (site.css): values map to [T/2, width - T/2]
  const KEY_SHOW_MS = 1200; // how long a key-driven preview stays up

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = String(s % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + sec : m + ":" + sec;
  }

  /* WebVTT hh:mm:ss.ttt or mm:ss.ttt, in seconds. */
  function vttTime(text) {
    const parts = text.trim().split(":").map(Number);
    return parts.reduce((total, part) => total * 60 + part, 0);
  }

  /* The cues of a thumbnail track: [{start, end, image, x, y, w, h}], images relative names. */
  function parseTrack(text) {
    const cues = [];
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    for (let i = 0; i < lines.length; i++) {
      const timing = /^\s*([\d:.]+)\s+-->\s+([\d:.]+)/.exec(lines[i]);
      const payload = timing && (lines[i + 1] || "").trim();
      const match = payload && /^([^#\s]+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(payload);
      if (!match) continue;
      cues.push({start: vttTime(timing[1]), end: vttTime(timing[2]), image: decodeURIComponent(match[1]),
        x: +match[2], y: +match[3], w: +match[4], h: +match[5]});
    }
    return cues;
  }

  /* The verified bytes of one file of the package (throws when no edge has it intact). */
  function verified(player, name) {
    return player.fetchVerified(player.fileUrl(player.source, name), new AbortController().signal, null, null);
  }

  /* {cues, images: {name: blob URL}} of the player's video, or null when it has no thumbnails. */
  async function loadThumbnails(player) {
    const manifest = player.manifest;
    const track = manifest && manifest.thumbnails;
    if (!track || !manifest.files[track]) return null;
    const cues = parseTrack(new TextDecoder().decode(await verified(player, track)));
    const images = {};
    for (const name of new Set(cues.map((cue) => cue.image))) {
      if (!manifest.files[name]) continue;  // verified() would refuse it too
      const bytes = await verified(player, name);
      images[name] = URL.createObjectURL(new Blob([bytes], {type: "image/jpeg"}));
    }
    const usable = cues.filter((cue) => images[cue.image]);
    return usable.length ? {cues: usable, images: images} : null;
  }

  function el(tag, className, attrs) {
    const node = document.createElement(tag);
    node.className = className;
    Object.entries(attrs || {}).forEach(([key, value]) => node.setAttribute(key, value));
    return node;
  }

  function attach(player, after) {
    const video = player.video;
    const bar = el("div", "scrubber");
    const track = el("div", "scrubber-track");
    const range = el("input", "scrubber-range", {type: "range", min: "0", max: "0", step: "any", value: "0",
      "aria-label": "Seek", "aria-valuetext": "0:00", disabled: ""});
    const time = el("span", "scrubber-time", {"aria-hidden": "true"});
    const preview = el("div", "scrubber-preview", {"aria-hidden": "true", hidden: ""});
    const picture = el("div", "scrubber-picture", {hidden: ""});
    const label = el("span", "scrubber-label");
    preview.append(picture, label);
    track.append(range, preview);
    bar.append(track, time);
    after.after(bar);

    let thumbs = null, loading = null, dragging = false, keyTimer = null;

    const duration = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration
      : (player.manifest && player.manifest.duration) || 0);

    function load() {
      if (!loading && player.manifest) {
        loading = loadThumbnails(player).then((found) => { thumbs = found; }, () => { thumbs = null; });
      }
      return loading;
    }

    function render() {
      const total = duration();
      if (total) range.removeAttribute("disabled");
      range.max = String(total);
      if (!dragging) range.value = String(video.currentTime || 0);
      const now = clock(dragging ? +range.value : video.currentTime);
      time.textContent = now + " / " + clock(total);
      range.setAttribute("aria-valuetext", now + " of " + clock(total));
      range.style.setProperty("--played", (total ? (+range.value / total) * 100 : 0) + "%");
    }

    /* The time under a pointer at clientX, mapped as the range maps its own clicks. */
    function timeAt(clientX) {
      const box = range.getBoundingClientRect();
      const usable = Math.max(1, box.width - THUMB_PX);
      return Math.min(1, Math.max(0, (clientX - box.left - THUMB_PX / 2) / usable)) * duration();
    }

    function show(seconds) {
      const total = duration();
      if (!total) return;
      const cue = thumbs && (thumbs.cues.find((c) => seconds >= c.start && seconds < c.end)
        || thumbs.cues[thumbs.cues.length - 1]);
      if (cue) {
        picture.style.width = cue.w + "px";
        picture.style.height = cue.h + "px";
        picture.style.backgroundImage = "url(\"" + thumbs.images[cue.image] + "\")";
        picture.style.backgroundPosition = -cue.x + "px " + -cue.y + "px";
      }
      picture.hidden = !cue;
      label.textContent = clock(seconds);
      preview.hidden = false;
      // Centred over the time, kept inside the bar.
      const box = range.getBoundingClientRect();
      const half = preview.offsetWidth / 2;
      const x = THUMB_PX / 2 + (seconds / total) * (box.width - THUMB_PX);
      preview.style.left = Math.min(Math.max(x, half), Math.max(half, box.width - half)) + "px";
    }

    function hide() {
      if (!dragging) preview.hidden = true;
    }

    function seek(seconds) {
      const total = duration();
      if (!total) return;
      video.currentTime = Math.min(Math.max(0, seconds), total);
      range.value = String(video.currentTime);
      render();
    }

    range.addEventListener("pointerenter", load);
    range.addEventListener("focus", load);
    range.addEventListener("pointermove", (event) => show(timeAt(event.clientX)));
    range.addEventListener("pointerleave", hide);
    range.addEventListener("pointerdown", (event) => {
      dragging = true;
      show(timeAt(event.clientX));
    });
    const release = () => {
      if (!dragging) return;
      dragging = false;
      render();
      preview.hidden = true;
    };
    range.addEventListener("pointerup", release);
    range.addEventListener("pointercancel", release);
    range.addEventListener("change", release);
    range.addEventListener("blur", () => { preview.hidden = true; });
    // Click and drag: the range moves itself; follow it.
    range.addEventListener("input", () => {
      video.currentTime = +range.value;
      render();
      if (dragging) show(+range.value);
    });
    range.addEventListener("keydown", (event) => {
      const total = duration();
      const steps = {ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5,
        PageDown: -total / 10, PageUp: total / 10};
      let target;
      if (event.key in steps) target = video.currentTime + steps[event.key];
      else if (event.key === "Home") target = 0;
      else if (event.key === "End") target = total;
      else return;
      event.preventDefault();
      seek(target);
      show(video.currentTime);
      clearTimeout(keyTimer);
      keyTimer = setTimeout(hide, KEY_SHOW_MS);
    });

    ["timeupdate", "durationchange", "loadedmetadata", "seeking", "emptied"].forEach((name) => {
      video.addEventListener(name, render);
    });
    render();
    // Fetched once playback has its first data, so the sprite never delays the first frame.
    player.ready.then(() => {
      render();
      if (player.state === "failed") return;
      if (video.readyState >= 2) load();
      else video.addEventListener("loadeddata", load, {once: true});
    });
    return {element: bar, range: range, preview: preview, load: load, thumbnails: () => thumbs};
  }

  global.SlipstreamThumbnails = {attach, parseTrack, loadThumbnails};
})(window);
