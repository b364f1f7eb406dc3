"""Time to first frame, ours vs plain hls.js from nginx (README.md, benchmarks): `python bench/first_frame.py`.

Publishes a real video (tracker + edge under gunicorn, the normal upload path), then opens in Debian's
Chromium, each time in a fresh browser context (cold cache, no open connections), by turns:
- `watch`: the tracker's watch page /watch/<id> (looks the video up, checks the manifest against the
  id and every file against the manifest),
- `embed`: the tracker's /embed/<id>,
- `anchor`: a page with plain hls.js that plays the same files from nginx, no lookup and no checks, the
  page and the media on two origins as ours are (nginx serves both, on two loopback ports).
The first frame is timed with requestVideoFrameCallback from navigation start, the same script on every
page; the phases come from Resource Timing (when each file's response ended). Prints p50/p95 per page,
the median of each phase, and the ratios to the anchor. Needs `nginx` on PATH and /usr/bin/chromium.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.edge import NGINX_MAIN, launch_nginx, publish, tear_down  # noqa: E402
from tests.player.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.servers import free_port  # noqa: E402

NGINX_CONF = NGINX_MAIN.replace("{servers}", """    server {{
        listen 127.0.0.1:{media_port};
        location /videos/ {{ alias {videos}/; add_header Access-Control-Allow-Origin *; }}
    }}
    server {{
        listen 127.0.0.1:{page_port};
        location / {{ root {pages}; }}
    }}""")
ANCHOR = """<!doctype html>
<html><head><meta charset="utf-8"><title>plain hls.js</title>
<script defer src="/hls.min.js"></script>
<script defer src="/anchor.js"></script>
</head><body><video controls playsinline preload="auto"></video></body></html>
"""
ANCHOR_JS = """const video = document.querySelector("video");
const hls = new Hls();
hls.loadSource("{master}");
hls.attachMedia(video);
video.play().catch(() => {{ video.muted = true; video.play(); }});
"""
# The same clock on every page: when the first frame is presented, in performance.now() (navigation start = 0).
PROBE = """window.__firstFrame = null;
document.addEventListener("DOMContentLoaded", () => {
  const video = document.querySelector("video");
  video.requestVideoFrameCallback((now) => { window.__firstFrame = now; });
});"""
RESULT = """(() => {
  if (window.__firstFrame === null) return null;
  const ends = {};
  for (const e of performance.getEntriesByType("resource")) {
    const name = new URL(e.name).pathname;
    const kind = name.endsWith("hls.min.js") ? "hls.js" : name.endsWith("/sources") ? "sources"
      : name.endsWith("manifest.json") ? "manifest" : name.endsWith("master.m3u8") ? "master"
      : name.endsWith(".m3u8") ? "playlist" : name.endsWith(".m4s") || name.endsWith(".ts") ? "segment" : null;
    if (kind && !(kind in ends)) ends[kind] = e.responseEnd;
  }
  const nav = performance.getEntriesByType("navigation")[0];
  ends.page = nav ? nav.domContentLoadedEventEnd : null;
  ends.frame = window.__firstFrame;
  return ends;
})()"""
PHASES = ("page", "hls.js", "sources", "manifest", "master", "playlist", "segment", "frame")


def start_nginx(tmp, videos, pages):
    media_port, page_port = free_port(), free_port()
    user = "user root;" if os.geteuid() == 0 else ""  # temp dirs are 0700: workers must be able to read
    media, page = f"http://127.0.0.1:{media_port}", f"http://127.0.0.1:{page_port}"
    proc = launch_nginx(tmp, NGINX_CONF.format(workers=2, user=user, tmp=tmp, media_port=media_port, page_port=page_port,
                                               videos=videos, pages=pages), page)
    return proc, media, page


def anchor_site(tmp, media, video_id):
    pages = os.path.join(tmp, "pages")
    os.makedirs(pages)
    shutil.copy(os.path.join(ROOT, "node_modules", "hls.js", "dist", "hls.min.js"), pages)
    with open(os.path.join(pages, "index.html"), "w") as f:
        f.write(ANCHOR)
    with open(os.path.join(pages, "anchor.js"), "w") as f:
        f.write(ANCHOR_JS.format(master=f"{media}/videos/{video_id}/master.m3u8"))
    return pages


def load(browser, url, timeout=30):
    """One cold load: a fresh context, the page, the first frame's time and the phases (ms)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.add_init_script(PROBE)
        page.goto(url)
        page.wait_for_timeout(50)
        for _ in range(int(timeout / 0.05)):
            found = page.evaluate(RESULT)
            if found:
                return found
            page.wait_for_timeout(50)
        raise SystemExit(f"no frame within {timeout} s at {url}")
    finally:
        context.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main(argv=None):
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=30, help="cold loads of each page")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="slipstream-first-frame-")
    servers, nginx = [], None
    try:
        tracker, edge, video_id = publish(tmp)
        servers = [edge, tracker]
        videos = os.path.join(edge.data_dir, "videos")
        nginx, media, page_origin = start_nginx(tmp, videos, os.path.join(tmp, "pages"))
        anchor_site(tmp, media, video_id)
        urls = {"watch": f"{tracker.url}/watch/{video_id}", "embed": f"{tracker.url}/embed/{video_id}",
                "anchor": f"{page_origin}/index.html"}
        runs = {name: [] for name in urls}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for url in urls.values():
                load(browser, url)  # warm the servers (not the browser: every load has a fresh context)
            for _ in range(args.loads):
                for name, url in urls.items():
                    runs[name].append(load(browser, url))
            browser.close()
        print(f"video {video_id}; {args.loads} cold loads of each page, by turns; Chromium headless; "
              f"{os.cpu_count()} CPUs\n")
        print(f"{'page':7} {'p50':>6} {'p95':>6}   median end of each phase, ms from navigation start")
        print(f"{'':7} {'':6} {'':6}   " + " ".join(f"{phase:>8}" for phase in PHASES))
        summary = {}
        for name, found in runs.items():
            frames = [run["frame"] for run in found]
            summary[name] = (statistics.median(frames), percentile(frames, 95))
            medians = []
            for phase in PHASES:
                values = [run[phase] for run in found if run.get(phase) is not None]
                medians.append(f"{statistics.median(values):8.0f}" if values else f"{'-':>8}")
            print(f"{name:7} {summary[name][0]:6.0f} {summary[name][1]:6.0f}   " + " ".join(medians))
        anchor = summary["anchor"]
        print()
        for name in ("watch", "embed"):
            print(f"{name:7} ratio p50 {summary[name][0] / anchor[0]:.2f}, p95 {summary[name][1] / anchor[1]:.2f} "
                  f"(/ anchor; targets ≤ 1.00 and ≤ 1.10)")
    finally:
        tear_down(nginx, servers, tmp)


if __name__ == "__main__":
    main()
