"""The player's first frame from a home edge through WebRTC against HTTP from the same edge, in Chromium on
loopback (README.md, "Benchmarks"; issue 18, item 5): `python bench/player_webrtc.py`.

Publishes a real video and makes its edge a home edge (tests/webrtc/home.py: a URL nobody listens on,
so the tracker lists it as `webrtc`; the edge still listens on its own port). Then, by turns and each
time in a fresh browser context, a third-party page plays it with the player from a sources answer it
carries (as the watch page's boot does), looked up just before: `webrtc`, the tracker's answer as it
is (connect through the tracker, then every file over the data channel), and `http`, the same edge
listed at its real port. Prints per way the player's first frame (ms from navigation start) p50 and
p95, and for WebRTC when the tracker's answer to the connect came; every file is checked either way.
"""
import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.clips import make_clip
from tests.player.chromium import CHROMIUM, CHROMIUM_ARGS, OtherOrigin, open_player
from tests.webrtc.home import Home
from tests.webrtc.viewer import sources

CONNECTED = """(() => {
  const entry = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/connect"));
  return entry ? entry.responseEnd : null;
})()"""


def play_once(browser, site, home, answer):
    """(first frame ms, connect answered ms or None) of one fresh page."""
    tab = open_player(browser, site, home.tracker.url, {"videoId": home.video_id, "sources": answer})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = tab.page.evaluate("window.slipstreamPlayer.snapshot()")
            if state["firstFrameMs"] is not None or state["state"] == "failed":
                break
            time.sleep(0.05)
        if state["firstFrameMs"] is None or state["errors"]:
            raise RuntimeError(f"no clean first frame: {state['state']} {state['errors']}")
        return state["firstFrameMs"], tab.page.evaluate(CONNECTED)
    finally:
        tab.close()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of the 720p clip")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    frames, connects = {"webrtc": [], "http": []}, []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clip = make_clip(root / "clip.mp4", seconds=args.seconds, width=1280, height=720)
        home, site = Home(), OtherOrigin()
        try:
            home.start(root, clip, TRACKER_AUDIT_INTERVAL="3600")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                for _ in range(args.rounds):
                    answer = sources(home.tracker.url, home.video_id)  # a fresh token each round
                    direct = copy.deepcopy(answer)
                    direct["sources"] = [{"node": answer["sources"][0]["node"], "url": home.edge.url, "reach": "http"}]
                    for way, carried in (("webrtc", answer), ("http", direct)):
                        first, connected = play_once(browser, site, home, carried)
                        frames[way].append(first)
                        if way == "webrtc":
                            connects.append(connected)
                browser.close()
        finally:
            site.close()
            home.stop()
    print(f"{args.rounds} rounds, 720p {args.seconds} s clip; load average {load_before[0]:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    for way, values in frames.items():
        print(f"{way:>6}: first frame p50 {statistics.median(values):.0f} ms, p95 {percentile(values, 95):.0f} ms "
              f"({', '.join(str(v) for v in values)})")
    print(f"webrtc: tracker's connect answer in at p50 {statistics.median(connects):.0f} ms from navigation start")
    print(f"ratio of the p50s, webrtc / http: {statistics.median(frames['webrtc']) / statistics.median(frames['http']):.2f}")


if __name__ == "__main__":
    main()
