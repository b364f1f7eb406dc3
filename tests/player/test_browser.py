"""The website in a real Chromium (Playwright), against a real tracker and two real edges."""
import json
import os
import re

import pytest
import requests

from tests.player.chromium import ARTIFACTS, PLAYING, SIZES, Tab
from tests.servers import free_port

pytestmark = pytest.mark.browser
LIE_IN_BOOT = """new MutationObserver((changes, observer) => {
  const tag = document.getElementById("slipstream-boot");
  if (!tag) return;
  observer.disconnect();
  const boot = JSON.parse(tag.textContent);
  boot.sources.sources.unshift(%s);
  tag.textContent = JSON.stringify(boot);
}).observe(document, {childList: true, subtree: true});"""


def player_state(page):
    return page.evaluate("""(() => {
      const state = window.slipstreamPlayer.snapshot();
      const video = document.querySelector("video");
      return Object.assign(state, {currentTime: video.currentTime,
                                   frames: video.getVideoPlaybackQuality().totalVideoFrames,
                                   audioBytes: video.webkitAudioDecodedByteCount});
    })()""")


def record_first_frame(page_name, state):
    """Print the time to first frame and keep it with the artifacts (README.md, targets: ≤ 1 s)."""
    line = f"{page_name}: first frame {state['firstFrameMs']} ms after navigation start"
    print(line)
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, f"first-frame-{page_name}.txt"), "w") as f:
        f.write(line + "\n")


@pytest.mark.parametrize("page_name", ["watch", "embed"])
def test_page_plays_the_video_from_an_edge(network, published, tab, tmp_path, page_name):
    vid = published["video_id"]
    asked = []
    tab.page.on("request", lambda request: asked.append(request.url))
    page = tab.open(f"{network.tracker.url}/{page_name}/{vid}")
    tab.wait(PLAYING, message="currentTime > 1.5 s and more than 30 decoded frames")
    state = player_state(page)
    record_first_frame(page_name, state)
    # The page carried the video and its sources (player/pages.py boot): the player asked for neither.
    assert not [url for url in asked if "/api/v1/videos/" in url and not url.endswith("/reports")]
    # Fetched ahead (slipstream-player.js fetchAhead) and each file asked for once, hls.js taking those bytes.
    media = [url for url in asked if f"/videos/{vid}/" in url and "/api/" not in url]
    assert len(media) == len(set(media)), media
    # The manifest and master playlist were preloaded by the page (player/pages.py boot), and those
    # preloads are what the player checked: had its fetch not matched them, they would be asked twice.
    preloads = [link.get_attribute("href") for link in page.query_selector_all('link[rel=preload][as=fetch]')]
    assert [url.rsplit("/", 1)[1] for url in preloads] == ["manifest.json", "master.m3u8"]
    assert set(preloads) <= set(media)
    # The sound is one audio rendition the variants share (EXT-X-MEDIA): fetched ahead too, and played.
    names = {url.rsplit("/", 1)[1] for url in media}
    assert {"audio.m3u8", "audio_init.mp4", "audio_00000.m4s"} <= names, names
    assert state["audioBytes"] > 0
    tab.screenshot(tmp_path, f"{page_name}-playing.png")

    assert state["state"] == "playing" and state["mode"] == "mse" and state["verified"]
    assert state["source"]["url"] in [edge.url for edge in network.edges]
    assert state["foundBy"] == network.tracker.url
    assert set(state["manifest"]["files"]) >= {"master.m3u8", state["manifest"]["poster"]}
    assert state["errors"] == [] and tab.problems == []
    assert sum(state["served"].values()) > 0
    assert state["firstFrameMs"] is not None and state["frames"] > 30
    if page_name == "watch":
        assert page.text_content("#video-title") == "Integration clip"
        assert page.text_content("#video-creator") == "tester"
    else:
        assert page.query_selector(".masthead") is None


def test_a_source_whose_manifest_does_not_hash_to_the_id_is_skipped(network, published, tab):
    """A lying edge put first in the tracker's answer: the player refuses it and plays from the next."""
    vid = published["video_id"]
    liar = f"http://127.0.0.1:{free_port()}"
    real = requests.get(f"{network.tracker.url}/api/v1/videos/{vid}/sources", timeout=5).json()["sources"][0]
    manifest = requests.get(f"{real['url']}/videos/{vid}/manifest.json", timeout=5).content
    tampered = manifest.replace(b'"version":1', b'"version":2')
    assert tampered != manifest

    def sources(route):
        answer = route.fetch()
        body = answer.json()
        body["sources"].insert(0, {"node": "f" * 64, "url": liar})
        route.fulfill(response=answer, json=body)

    tab.page.route(f"**/api/v1/videos/{vid}/sources", sources)
    # The same lie in the sources the page carries (player/pages.py boot), told as the parser inserts them
    # (a page fulfilled by the test would lose its loopback address space, and with it the edges).
    tab.page.add_init_script(LIE_IN_BOOT % json.dumps({"node": "f" * 64, "url": liar}))
    tab.page.route(f"{liar}/**", lambda route: route.fulfill(
        body=tampered, content_type="application/json", headers={"Access-Control-Allow-Origin": "*"}))
    tab.open(f"{network.tracker.url}/embed/{vid}")
    tab.wait(PLAYING, message="playback from the honest edge")
    state = player_state(tab.page)
    assert state["source"]["url"] == real["url"] and state["failed"] == [liar]
    assert [(e["code"], e["source"]) for e in state["errors"]] == [("bad_manifest", liar)]


def test_an_unknown_video_says_so(network, tab):
    page = tab.open(f"{network.tracker.url}/watch/{'0' * 40}")
    tab.wait("window.slipstreamPlayer.state === 'failed'", message="the player to give up")
    assert page.is_visible("#player-status")
    assert page.text_content("#video-title") == "This video is not known to this tracker"
    tab.problems.clear()  # the browser logs the tracker's 404s as console errors


def test_the_home_page_lists_and_searches_the_catalog(network, published, tab):
    page = tab.open(network.tracker.url + "/")
    tab.wait("document.querySelectorAll('#videos .card').length > 0", message="the video list")
    link = page.get_attribute(f"#videos a[href='/watch/{published['video_id']}']", "href")
    assert link == f"/watch/{published['video_id']}"
    poster = page.get_attribute("#videos .card img", "src")
    assert poster.endswith("/poster.jpg")

    page.fill("#search-q", "no such words at all")
    page.press("#search-q", "Enter")
    tab.wait("document.getElementById('listing-status')?.textContent.startsWith('No videos match')",
             message="an empty search result")
    assert page.query_selector_all("#videos .card") == []
    assert tab.problems == []


def test_the_pages_work_with_the_keyboard(network, tab):
    page = tab.open(network.tracker.url + "/")
    focused = []
    for _ in range(5):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert focused == ["Skip to content", "Slipstream", "search-q", "Search", "Upload"]
    page.keyboard.press("Enter")
    page.wait_for_url("**/upload")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


def test_upload_page_uploads_transcodes_and_links_to_the_video(network, small_clip, tab, tmp_path):
    page = tab.open(network.tracker.url + "/upload")
    status = tab.upload(small_clip, "Uploaded from the browser", description="set_input_files and a click",
                        creator="playwright")
    assert status == "Published.", status
    assert page.evaluate("document.getElementById('progress-upload').value") == 1
    assert page.evaluate("document.getElementById('progress-transcode').value") == 1
    tab.screenshot(tmp_path, "upload-done.png")

    href = page.get_attribute("#watch-link", "href")
    vid = re.fullmatch(r"/watch/([0-9a-f]{40})", href).group(1)
    video = requests.get(f"{network.tracker.url}/api/v1/videos/{vid}", timeout=5).json()
    assert (video["title"], video["creator"]) == ("Uploaded from the browser", "playwright")

    page.click("#watch-link")
    page.wait_for_url(f"**/watch/{vid}")
    tab.wait("document.querySelector('video') && document.querySelector('video').currentTime > 0.5",
             message="the uploaded video to play")
    assert tab.problems == []


def test_screenshots_at_desktop_and_phone_sizes(network, published, browser, tmp_path):
    pages = {"home": "/", "watch": f"/watch/{published['video_id']}", "upload": "/upload"}
    for size in SIZES:
        tab = Tab(browser, size)
        try:
            for name, path in pages.items():
                page = tab.open(network.tracker.url + path)
                if name == "home":
                    tab.wait("[...document.querySelectorAll('#videos img')].some(i => i.complete && i.naturalWidth)",
                             message="a poster")
                elif name == "watch":
                    tab.wait("document.querySelector('video').currentTime > 1", message="playback")
                    page.evaluate("document.querySelector('video').pause()")
                tab.screenshot(tmp_path, f"{name}-{size}.png")
                # Responsive: nothing wider than the viewport, so no sideways scrolling on a phone.
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, size)
            assert tab.problems == []
        finally:
            tab.close()


def test_javascript_sha256_matches_webcrypto(network, published, tab):
    """The fallback used on plain-http pages (no crypto.subtle) agrees with WebCrypto."""
    tab.open(f"{network.tracker.url}/embed/{published['video_id']}")
    results = tab.page.evaluate("""(async () => {
      const sha256 = await Slipstream.loadScript("sha256.js", "SlipstreamSha256");
      const out = [];
      for (const size of [0, 1, 55, 56, 64, 1000, 65536 + 7]) {
        const bytes = new Uint8Array(size).map((_, i) => (i * 31 + size) & 255);
        const web = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        out.push([size, Array.from(web).join() === Array.from(sha256(bytes)).join()]);
      }
      return JSON.stringify(out);
    })()""")
    assert all(same for _, same in json.loads(results)), results


def test_without_webcrypto_the_manifest_is_still_checked(network, published, tab):
    """As on a plain-http page outside localhost, where browsers hide crypto.subtle."""
    tab.context.add_init_script("Object.defineProperty(window.crypto, 'subtle', {value: undefined});")
    tab.open(f"{network.tracker.url}/embed/{published['video_id']}")
    tab.wait(PLAYING, message="playback with the plain-JS SHA-256")
    state = player_state(tab.page)
    assert state["verified"] and state["errors"] == []
    assert tab.page.evaluate("typeof window.SlipstreamSha256") == "function"
    # Segments too: every file hls.js played went through the plain-JS hash.
    assert any(d["name"].endswith(".m4s") for d in state["deliveries"])
