"""A real home edge in Chromium: a real tracker lists an edge whose URL it cannot prove as `webrtc`
(tests/webrtc/home.py), and the player plays from it through the tracker's connect and a data channel,
every file checked against the manifest; a tampered file over the channel is refused and an HTTP
edge's copy used; an edge gone from its signalling socket is refused by the tracker (504) and the
HTTP edge used.
"""
import os
import shutil
import signal

import pytest
import requests

from tests.actions import announced, wait_for
from tests.player.chromium import PLAYING, open_player
from tests.servers import start_edge
from tests.webrtc.home import Home, webrtc_source
from tests.webrtc.viewer import sources

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def home(tmp_path_factory, small_clip):
    started = Home()
    try:
        yield started.start(tmp_path_factory.mktemp("home"), small_clip)
    finally:
        started.stop()


@pytest.fixture(scope="module")
def http_edge(home, tmp_path_factory):
    """A plain edge on loopback holding a copy of the home edge's package: the HTTP source to fall over to."""
    edge = home.started(start_edge(tmp_path_factory.mktemp("http-edge") / "edge", home.tracker.url))
    wait_for(lambda: announced(edge), message="the HTTP edge announced")
    shutil.copytree(package(home.edge, home.video_id), package(edge, home.video_id))
    return wait_for(lambda: next((s for s in sources(home.tracker.url, home.video_id)["sources"]
                                  if s["url"] == edge.url), None), timeout=60, message="the HTTP edge listed")


def package(edge, video_id):
    return os.path.join(edge.data_dir, "videos", video_id)


def open_page(browser, other_origin, home, **options):
    """The host page playing the home clip; `options` add to the player's (`sources`: a carried answer)."""
    return open_player(browser, other_origin, home.tracker.url, {"videoId": home.video_id, **options})


def snapshot(tab):
    return tab.page.evaluate("window.slipstreamPlayer.snapshot()")


def test_a_video_plays_from_a_home_edge_through_webrtc(browser, other_origin, home):
    source = webrtc_source(home.tracker.url, home.video_id)
    asked = []
    tab = open_page(browser, other_origin, home)
    tab.page.on("request", lambda request: asked.append(request.url))
    try:
        tab.wait(PLAYING, message="playback from the home edge")
        state = snapshot(tab)
        files = state["manifest"]["files"]
        assert state["state"] == "playing" and state["errors"] == [] and tab.problems == []
        assert state["source"]["reach"] == "webrtc" and state["source"]["node"] == source["node"]
        # Every file came through the channel, each checked (its manifest size), and counted for the home edge.
        delivered = {d["name"] for d in state["deliveries"]}
        assert {"master.m3u8", "audio.m3u8", "audio_init.mp4"} <= delivered <= set(files)
        assert all(d["node"] == source["node"] and d["bytes"] == files[d["name"]]["size"] for d in state["deliveries"])
        assert set(state["served"]) == {source["node"]} and state["served"][source["node"]] > sum(
            d["bytes"] for d in state["deliveries"])  # and the manifest besides
        # Not a byte over HTTP: the page asked the tracker, and nothing of the edge's unusable URL.
        assert not [url for url in asked if url.startswith(home.url)]
        assert [url for url in asked if url.endswith("/connect")] == [source["connect"]]
    finally:
        tab.close()


def test_a_tampered_file_over_the_channel_is_refused_and_the_http_edge_used(browser, other_origin, home, http_edge):
    answer = sources(home.tracker.url, home.video_id)
    source = next(s for s in answer["sources"] if s["reach"] == "webrtc")
    answer["sources"] = [source, http_edge]  # the home edge first, whatever the tracker's ranking
    master = os.path.join(package(home.edge, home.video_id), "master.m3u8")
    with open(master, "rb") as f:
        sound = f.read()
    with open(master, "wb") as f:  # same size, so only the hash can tell
        f.write(sound.replace(b"#EXTM3U", b"#EXTm3u", 1))
    tab = open_page(browser, other_origin, home, sources=answer)
    try:
        tab.wait(PLAYING, message="playback from the HTTP edge")
        state = snapshot(tab)
        assert [(e["code"], e["source"]) for e in state["errors"]] == [("hash_mismatch", source["url"])]
        assert state["failed"] == [source["url"]] and state["source"]["url"] == http_edge["url"]
        assert [d["node"] for d in state["deliveries"] if d["name"] == "master.m3u8"] == [http_edge["node"]]
        assert state["served"][source["node"]] > 0  # its manifest, which matched
        wait_for(lambda: tab.reports == [{"node": source["node"], "reason": "hash_mismatch"}], timeout=5,
                 message="the report of the tampering edge")
    finally:
        tab.close()
        with open(master, "wb") as f:
            f.write(sound)


def test_a_connect_refused_504_falls_over_to_the_http_edge(browser, other_origin, home, http_edge):
    """The home edge dies with the answer already in the page (as the watch page carries it): its
    signalling socket is gone, so the tracker refuses the connect with 504 at once."""
    answer = sources(home.tracker.url, home.video_id)
    source = next(s for s in answer["sources"] if s["reach"] == "webrtc")
    answer["sources"] = [source, http_edge]
    os.killpg(home.edge.proc.pid, signal.SIGKILL)
    home.edge.proc.wait()
    tab = open_page(browser, other_origin, home, sources=answer)
    try:
        tab.wait(PLAYING, message="playback from the HTTP edge")
        state = snapshot(tab)
        assert [(e["code"], e["source"]) for e in state["errors"]] == [("edge_unreachable", source["url"])]
        assert state["failed"] == [source["url"]] and set(state["served"]) == {http_edge["node"]}
        assert state["source"]["url"] == http_edge["url"]
    finally:
        tab.close()
    assert requests.get(home.tracker.url + "/healthz", timeout=5).ok
