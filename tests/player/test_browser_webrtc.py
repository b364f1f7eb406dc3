"""A home edge's files through a WebRTC data channel, in Chromium: played, checked, refused when
tampered, and given up for an HTTP source when it cannot be connected.

The host page carries the sources answer (the player's `sources` option, as the watch page's boot
does), listing the stand-in home edge (tests/player/webrtc_peer.py) with an unusable URL, so every
byte the player verifies came through the channel.
"""
import json
import os

import pytest
import requests

from tests.actions import wait_for
from tests.player.chromium import PLAYING, Tab
from tests.player.webrtc_peer import StandInEdge

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html>
<title>A blog with a video from a home edge</title>
<video id="v" controls muted playsinline width="640" height="360"></video>
<script src="{tracker}/player/static/slipstream-player.js"></script>
<script>
  window.slipstreamPlayer = Slipstream.play(document.getElementById("v"),
    {{videoId: "{video_id}", sources: {sources}}});
</script>
"""


@pytest.fixture
def home_edge(network, published):
    """A stand-in home edge holding the published clip, as one of the network's edges stores it."""
    video_id = published["video_id"]
    holder = next(e for e in network.edges if os.path.isdir(os.path.join(e.data_dir, "videos", video_id)))
    # A node of its own, so that what it served is told apart from the HTTP edges' part.
    edge = StandInEdge(os.path.join(holder.data_dir, "videos", video_id), "5e" * 32)
    yield edge
    edge.close()


def http_source(network, video_id):
    return requests.get(f"{network.tracker.url}/api/v1/videos/{video_id}/sources", timeout=5).json()["sources"][0]


@pytest.fixture
def host_page(browser, other_origin, network, published):
    """open(sources): the host page, in a fresh tab, playing the clip from `sources` (closed after the
    test); `tab.reports` collects the failure reports it sends the tracker."""
    tabs = []

    def open_page(sources):
        tab = Tab(browser)
        tabs.append(tab)
        tab.reports = []
        tab.page.on("request", lambda r: r.url.endswith("/reports") and tab.reports.append(json.loads(r.post_data)))
        video_id = published["video_id"]
        answer = {"video_id": video_id, "found_by": network.tracker.url, "ice_servers": [], "sources": sources}
        tab.open(other_origin.put(f"/home-{len(other_origin.pages)}.html", HOST_PAGE.format(
            tracker=network.tracker.url, video_id=video_id, sources=json.dumps(answer))))
        return tab
    yield open_page
    for tab in tabs:
        tab.close()


def snapshot(tab):
    return tab.page.evaluate("window.slipstreamPlayer.snapshot()")


def failed_over(host_page, home_edge, fallback, code):
    """The stand-in listed first and an HTTP edge second: the page once it plays, from the HTTP edge,
    having given up the stand-in for one error `code`."""
    source = home_edge.source()
    tab = host_page([source, fallback])
    tab.wait(PLAYING, message="playback from the HTTP edge")
    state = snapshot(tab)
    assert [(e["code"], e["source"]) for e in state["errors"]] == [(code, source["url"])]
    assert state["failed"] == [source["url"]] and state["source"]["url"] == fallback["url"]
    return tab, state


def test_a_video_plays_through_the_data_channel_every_file_checked(host_page, home_edge):
    source = home_edge.source()
    tab = host_page([source])
    tab.wait(PLAYING, message="playback through the data channel")
    state = snapshot(tab)
    files = state["manifest"]["files"]
    assert state["state"] == "playing" and state["errors"] == [] and tab.problems == []
    assert state["source"]["url"] == source["url"] and state["failed"] == []
    # Every file hls.js played came through the channel, verified, and counted for the home edge.
    delivered = {d["name"] for d in state["deliveries"]}
    assert {"master.m3u8", "audio.m3u8", "audio_init.mp4"} <= delivered <= set(files)
    assert all(d["node"] == source["node"] and d["bytes"] == files[d["name"]]["size"] for d in state["deliveries"])
    assert state["served"] == {source["node"]: sum(d["bytes"] for d in state["deliveries"])
                               + os.path.getsize(os.path.join(home_edge.package_dir, "manifest.json"))}
    assert home_edge.connects == 1 and "manifest.json" in home_edge.requests
    assert set(home_edge.requests) >= delivered


def test_a_tampered_file_over_the_channel_is_refused_and_the_next_source_used(host_page, home_edge, network,
                                                                               published):
    fallback = http_source(network, published["video_id"])
    home_edge.tamper.add("master.m3u8")
    tab, state = failed_over(host_page, home_edge, fallback, "hash_mismatch")
    node = home_edge.node
    master = [d for d in state["deliveries"] if d["name"] == "master.m3u8"]
    assert master == [{"name": "master.m3u8", "node": fallback["node"], "bytes": master[0]["bytes"]}]
    # The manifest came through the channel before the tampering was seen, and counted.
    assert state["served"][node] > 0 and "master.m3u8" in home_edge.requests
    # Reported to the tracker, which does not know this stand-in's node: its 404 is the page's one error.
    assert tab.reports == [{"node": node, "reason": "hash_mismatch"}]
    assert len(tab.problems) == 1 and "404" in tab.problems[0]


def test_a_refused_connect_falls_over_to_an_http_source(host_page, home_edge, network, published):
    fallback = http_source(network, published["video_id"])
    home_edge.refuse = True
    tab, state = failed_over(host_page, home_edge, fallback, "edge_unreachable")
    assert home_edge.connects == 1 and home_edge.requests == []
    assert set(state["served"]) == {fallback["node"]}
    # The tracker's 504 means the edge keeps no signalling connection: worth reporting.
    wait_for(lambda: tab.reports == [{"node": home_edge.node, "reason": "http_error"}], timeout=5,
             message="the report of the unreachable edge")


def test_a_silent_channel_times_out_and_the_next_source_is_used(host_page, home_edge, network, published):
    """The edge keeps the channel open and answers the manifest, then never sends the master playlist."""
    fallback = http_source(network, published["video_id"])
    home_edge.silent.add("master.m3u8")
    _, state = failed_over(host_page, home_edge, fallback, "timeout")
    # Only the poster, asked beside the master playlist, may have come through the channel before.
    assert {d["name"] for d in state["deliveries"] if d["node"] == home_edge.node} <= {state["manifest"]["poster"]}
    assert {"master.m3u8", "audio.m3u8"} <= {d["name"] for d in state["deliveries"] if d["node"] == fallback["node"]}


NEEDED = [
    # (reach, url, page protocol, through a channel?)
    ("webrtc", "http://192.168.1.20:8001", "http:", True),
    ("webrtc", "https://edge.example", "https:", True),
    ("http", "http://edge.example:8001", "https:", True),    # mixed content
    ("http", "http://127.0.0.1:8001", "https:", False),      # loopback is exempt
    ("http", "http://localhost:8001", "https:", False),
    ("http", "http://edge.example:8001", "http:", False),
    ("https", "https://edge.example", "https:", False),
    (None, "http://edge.example:8001", "https:", False),     # an older tracker: as before
]


def test_which_sources_go_through_a_channel(tab, network, other_origin):
    static = f"{network.tracker.url}/player/static"
    tab.open(other_origin.put("/needed.html", f'<script src="{static}/error.js"></script>'
                                              f'<script src="{static}/player-webrtc.js"></script>'))
    for reach, url, protocol, expected in NEEDED:
        source = {"url": url, "connect": "https://tracker.example/api/v1/videos/x/connect", "reach": reach}
        got = tab.page.evaluate("([source, protocol]) => SlipstreamWebRTC.needed(source, {protocol})", [source, protocol])
        assert got is expected, (reach, url, protocol)
    # Without a connect URL there is no other way than HTTP.
    assert tab.page.evaluate("SlipstreamWebRTC.needed({url: 'http://a.example', reach: 'webrtc'}, {protocol: 'https:'})") is False
