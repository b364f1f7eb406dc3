"""Debian's Chromium driven by Playwright: how it is launched, a `Tab` that remembers every page error,
and `OtherOrigin`, a third-party site on its own loopback port."""
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.servers import ROOT

CHROMIUM = "/usr/bin/chromium"
# WebRtcHideLocalIpsWithMdns off: Chromium would offer its host candidates as random `.local` names,
# which an edge resolves only by multicast DNS, not on a test machine; with it off, they are addresses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--autoplay-policy=no-user-gesture-required",
                 "--disable-features=WebRtcHideLocalIpsWithMdns"]
ARTIFACTS = os.path.join(ROOT, "test-artifacts")
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}

PLAYING = """(() => {
  const video = document.querySelector("video");
  return video.currentTime > 1.5 && video.getVideoPlaybackQuality().totalVideoFrames > 30;
})()"""


class Tab:
    """A fresh browser context and page that remembers every script error and console error."""

    def __init__(self, browser, size="desktop"):
        width, height = SIZES[size]
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.problems = []
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))

    def open(self, url):
        self.page.goto(url)
        return self.page

    def wait(self, expression, timeout=30, message=None):
        """Poll `expression` with page.evaluate: wait_for_function's eval would be refused by our CSP."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.page.evaluate(expression):
                return
            time.sleep(0.1)
        state = self.page.evaluate("window.slipstreamPlayer ? JSON.stringify(window.slipstreamPlayer.snapshot()) : ''")
        raise AssertionError(f"timed out waiting for {message or expression}; player: {state}; {self.problems}")

    def upload(self, clip, title, **fields):
        """On the upload page: choose `clip`, fill the title and any other field (`description`,
        `creator`, `visibility`), submit, and wait for the end; the status line's last text."""
        page = self.page
        page.set_input_files("#upload-file", str(clip))
        page.fill("#upload-title", title)
        for name, value in fields.items():
            if name == "visibility":
                page.select_option("#upload-visibility", value)
            else:
                page.fill(f"#upload-{name}", value)
        page.click("#upload-submit")
        self.wait("!document.getElementById('upload-done').hidden || "
                  "document.getElementById('upload-status').dataset.kind === 'error'",
                  timeout=240, message="the upload to be published")
        return page.text_content("#upload-status")

    def uploaded_video(self):
        """The id the upload page's "Watch your video" link names."""
        return re.fullmatch(r"/watch/([0-9a-f]{40})", self.page.get_attribute("#watch-link", "href")).group(1)

    def screenshot(self, tmp_path, name):
        for folder in (tmp_path, ARTIFACTS):
            os.makedirs(folder, exist_ok=True)
            self.page.screenshot(path=os.path.join(folder, name))

    def close(self):
        self.context.close()


PLAYER_PAGE = """<!doctype html>
<title>A blog with a Slipstream video</title>
<video id="v" controls muted playsinline width="640" height="360"></video>
<script src="{tracker}/player/static/slipstream-player.js"></script>
<script>
  window.slipstreamPlayer = Slipstream.play(document.getElementById("v"), {options});
</script>
"""


def open_player(browser, other_origin, tracker_url, options):
    """A third-party page on `other_origin` playing with the player's `options`, in a fresh tab;
    `tab.reports` collects the failure reports the player sends the tracker."""
    tab = Tab(browser)
    tab.reports = []
    tab.page.on("request", lambda r: r.url.endswith("/reports") and tab.reports.append(json.loads(r.post_data)))
    tab.open(other_origin.put(f"/player-{len(other_origin.pages)}.html",
                              PLAYER_PAGE.format(tracker=tracker_url, options=json.dumps(options))))
    return tab


class OtherOrigin:
    """A tiny static web server on its own loopback port: a third-party site on another origin."""

    def __init__(self):
        pages = self.pages = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/favicon.ico":  # browsers ask; a 404 would be logged as a console error
                    self.send_response(204)
                    self.end_headers()
                    return
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                body = (body if body is not None else "not found").encode()
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path, html):
        """Serve `html` at `path`; returns its URL."""
        self.pages[path] = html
        return self.url + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()
