"""The player's data channel against faults a real home edge does not make on cue (a frozen channel,
a closed one), and its rule of which sources need a channel; tests/player/test_browser_home_edge.py
plays from a real home edge.

The host page carries the sources answer (the player's `sources` option, as the watch page's boot
does), listing the stand-in home edge (tests/player/webrtc_peer.py) with an unusable URL, then an HTTP edge.
"""
import os

import pytest
import requests

from tests.actions import wait_for
from tests.player.chromium import PLAYING, open_player
from tests.player.webrtc_peer import StandInEdge

pytestmark = pytest.mark.browser


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
def host_page(browser, other_origin, network, published, home_edge):
    """open(sources): the host page, in a fresh tab, playing the clip from `sources` (closed after the
    test); `tab.reports` collects the failure reports it sends the tracker."""
    tabs = []

    def open_page(sources):
        answer = {"video_id": published["video_id"], "found_by": network.tracker.url,
                  "ice_servers": home_edge.ice_servers, "sources": sources}
        tabs.append(open_player(browser, other_origin, network.tracker.url,
                                {"videoId": published["video_id"], "sources": answer}))
        return tabs[-1]
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


@pytest.mark.parametrize("fault, code", [("silent", "timeout"), ("hang_up", "channel_closed")])
def test_a_frozen_or_broken_channel_moves_to_the_next_source(host_page, home_edge, network, published, fault, code):
    """The edge answers the manifest over the channel, then never sends the master playlist (or closes
    the channel when it is asked for)."""
    fallback = http_source(network, published["video_id"])
    getattr(home_edge, fault).add("master.m3u8")
    tab, state = failed_over(host_page, home_edge, fallback, code)
    # Only the poster, asked beside the master playlist, may have come through the channel before.
    assert {d["name"] for d in state["deliveries"] if d["node"] == home_edge.node} <= {state["manifest"]["poster"]}
    assert {"master.m3u8", "audio.m3u8"} <= {d["name"] for d in state["deliveries"] if d["node"] == fallback["node"]}
    assert home_edge.connects == 1
    # Reported to the tracker, which does not know this stand-in's node: its 404s are the page's only errors.
    reason = "timeout" if code == "timeout" else "http_error"
    wait_for(lambda: tab.reports == [{"node": home_edge.node, "reason": reason}], timeout=5, message="the report")
    assert all("404" in problem for problem in tab.problems)


def test_a_stale_token_is_renewed_by_a_new_lookup(browser, other_origin, network, published, home_edge):
    """A channel opened after the token's 120 s (the page carried an old answer, or a paused viewer's
    channel was closed idle): the tracker refuses 403, the player looks the video up again and connects."""
    stale = dict(home_edge.source(), token="expired")
    answer = {"video_id": published["video_id"], "found_by": home_edge.url, "ice_servers": home_edge.ice_servers,
              "sources": [stale]}
    tab = open_player(browser, other_origin, network.tracker.url,
                      {"videoId": published["video_id"], "tracker": home_edge.url, "sources": answer})
    try:
        tab.wait(PLAYING, message="playback after the token's renewal")
        state = tab.page.evaluate("window.slipstreamPlayer.snapshot()")
        assert state["errors"] == [] and state["failed"] == [] and tab.reports == []
        assert home_edge.connects == 2 and home_edge.lookups == 1
        assert set(state["served"]) == {home_edge.node}
    finally:
        tab.close()


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
