"""Seek-bar preview thumbnails in a real Chromium: the scrubber under the watch page's video shows the
sprite cell of the time under the pointer, from checked bytes (a blob: URL), and seeks."""
import os
import re

import pytest
import requests

from tests.player.chromium import ARTIFACTS, PLAYING, Tab

pytestmark = pytest.mark.browser

SPRITE_LOADED = "window.slipstreamPlayer.deliveries.some(d => d.name === 'sprite.jpg')"
PREVIEW = """(() => {
  const preview = document.querySelector('.scrubber-preview');
  const picture = document.querySelector('.scrubber-picture');
  const style = getComputedStyle(picture);
  return {visible: !preview.hidden && preview.offsetWidth > 0 && !picture.hidden && picture.offsetWidth > 0,
          image: style.backgroundImage, position: style.backgroundPosition,
          width: picture.offsetWidth, height: picture.offsetHeight,
          label: document.querySelector('.scrubber-label').textContent};
})()"""


def vtt_cues(text):
    """(start, end, x, y, w, h) of each cue of a thumbnail track."""
    def seconds(stamp):
        total = 0.0
        for part in stamp.split(":"):
            total = total * 60 + float(part)
        return total

    return [(seconds(a), seconds(b), int(x), int(y), int(w), int(h)) for a, b, x, y, w, h in re.findall(
        r"([\d:.]+) --> ([\d:.]+)\n[^#\n]+#xywh=(\d+),(\d+),(\d+),(\d+)", text)]


def test_the_scrubber_previews_thumbnails_and_seeks(network, published, tab):
    vid = published["video_id"]
    page = tab.open(f"{network.tracker.url}/watch/{vid}")
    tab.wait(PLAYING, message="playback")
    tab.wait(SPRITE_LOADED, message="the sprite sheet, checked against the manifest")
    page.evaluate("document.querySelector('video').pause()")
    state = page.evaluate("window.slipstreamPlayer.snapshot()")
    assert state["manifest"]["thumbnails"] == "thumbnails.vtt"
    assert {"thumbnails.vtt", "sprite.jpg"} <= {d["name"] for d in state["deliveries"]}
    track = requests.get(f"{state['source']['url']}/videos/{vid}/thumbnails.vtt", timeout=5).text
    cues = vtt_cues(track)
    assert len(cues) >= 3

    # Hover the middle of the scrubber: the preview shows the cue of half the duration.
    box = page.locator(".scrubber-range").bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tab.wait(PREVIEW + ".visible", timeout=5, message="the preview thumbnail")
    preview = page.evaluate(PREVIEW)
    duration = page.evaluate("document.querySelector('video').duration")
    middle = duration / 2
    start, end, x, y, w, h = next(c for c in cues if c[0] <= middle < c[1])
    assert preview["image"].startswith('url("blob:'), preview
    assert preview["position"] == f"{-x}px {-y}px", (preview, middle, cues)
    assert (preview["width"], preview["height"]) == (w, h)
    assert preview["label"] == f"0:{int(middle):02d}"
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "watch-thumbnail.png"))

    # A click seeks to that point of the bar.
    page.mouse.click(box["x"] + box["width"] / 4, box["y"] + box["height"] / 2)
    now = page.evaluate("document.querySelector('video').currentTime")
    assert abs(now - duration / 4) < 0.25, (now, duration)
    page.mouse.move(box["x"], box["y"] + box["height"] * 4)  # off the bar: the preview goes away
    tab.wait("document.querySelector('.scrubber-preview').hidden", timeout=5, message="the preview to hide")

    # The keyboard: Home, then an arrow is 5 s on; the bar says where we are.
    page.focus(".scrubber-range")
    page.keyboard.press("Home")
    assert page.evaluate("document.querySelector('video').currentTime") == 0
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.querySelector('video').currentTime") == 5
    assert page.get_attribute(".scrubber-range", "aria-valuetext").startswith("0:05 of ")
    assert page.evaluate(PREVIEW + ".visible")  # a key shows the preview too
    assert tab.problems == []


def test_a_thumbnail_track_that_does_not_match_the_manifest_is_refused(network, published, tab):
    """The first edge asked sends a doctored thumbnails.vtt: refused by its hash, taken from the other."""
    vid = published["video_id"]
    doctored = []

    def thumbnails(route):
        if doctored:
            route.continue_()
            return
        doctored.append(route.request.url)
        route.fulfill(body="WEBVTT\n\n00:00:00.000 --> 01:00:00.000\nsprite.jpg#xywh=0,0,1,1\n",
                      content_type="text/vtt", headers={"Access-Control-Allow-Origin": "*"})

    tab.page.route(f"**/videos/{vid}/thumbnails.vtt", thumbnails)
    # Keep the (deserved) report from ranking that edge down for the other tests.
    tab.page.route(f"**/api/v1/videos/{vid}/reports", lambda route: route.fulfill(status=204))
    page = tab.open(f"{network.tracker.url}/embed/{vid}")
    tab.wait(PLAYING, message="playback")
    tab.wait(SPRITE_LOADED, message="the sprite sheet")
    state = page.evaluate("window.slipstreamPlayer.snapshot()")
    bad = doctored[0].split("/videos/")[0]
    assert [(e["code"], e["source"]) for e in state["errors"]] == [("hash_mismatch", bad)]
    assert state["failed"] == [bad] and state["source"]["url"] != bad
    box = page.locator(".scrubber-range").bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tab.wait(PREVIEW + ".visible", timeout=5, message="the preview thumbnail from the honest edge")
    preview = page.evaluate(PREVIEW)
    assert preview["image"].startswith('url("blob:') and preview["width"] > 1, preview
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "embed-thumbnail.png"))


def test_on_a_phone_the_preview_stays_on_screen(network, published, browser):
    phone = Tab(browser, "phone")
    try:
        page = phone.open(f"{network.tracker.url}/watch/{published['video_id']}")
        phone.wait(SPRITE_LOADED, message="the sprite sheet")
        page.evaluate("document.querySelector('video').pause()")
        box = page.locator(".scrubber-range").bounding_box()
        assert box["height"] >= 28  # a finger-sized target
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)  # the very end
        phone.wait(PREVIEW + ".visible", timeout=5, message="the preview thumbnail")
        shown = page.locator(".scrubber-preview").bounding_box()
        assert shown["x"] >= 0 and shown["x"] + shown["width"] <= page.viewport_size["width"], shown
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=os.path.join(ARTIFACTS, "watch-thumbnail-phone.png"))
        assert phone.problems == []
    finally:
        phone.close()
