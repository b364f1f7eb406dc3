"""The player on other people's sites: a host page on another origin (another loopback port) that
drives the /embed/<id> iframe through postMessage, and one that uses one script tag and one element."""
import json

import pytest

from tests.player.chromium import PLAYING

pytestmark = pytest.mark.browser

IFRAME_HOST = """<!doctype html>
<title>A blog embedding a video</title>
<iframe id="embed" src="{tracker}/embed/{video_id}?autoplay=0" width="640" height="360"
        allow="autoplay; fullscreen" allowfullscreen></iframe>
<script>
  window.received = [];
  const frame = document.getElementById("embed");
  window.addEventListener("message", (event) => {{
    if (event.origin !== "{tracker}" || event.source !== frame.contentWindow) return;
    window.received.push(event.data);
  }});
  let nextId = 1;
  window.command = (method, value) => {{
    const id = nextId++;
    frame.contentWindow.postMessage({{slipstream: "command", method, value, id}}, "{tracker}");
    return id;
  }};
  window.reply = (id) => window.received.find((m) => m.slipstream === "reply" && m.id === id) || null;
  window.events = (name) => window.received.filter((m) => m.slipstream === "event" && m.event === name);
</script>
"""

SCRIPT_TAG_HOST = """<!doctype html>
<title>A blog with one script tag</title>
<p>My holiday video:</p>
<video controls muted autoplay width="480" data-slipstream-video="{video_id}"></video>
<script src="{tracker}/player/static/slipstream-player.js"></script>
"""


class Host:
    """The host page's view of the embed: send commands, read replies and events."""

    def __init__(self, tab):
        self.tab, self.page = tab, tab.page

    def command(self, method, value=None):
        """Send a command and wait for its reply."""
        request_id = self.page.evaluate(f"window.command({json.dumps(method)}, {json.dumps(value)})")
        self.tab.wait(f"window.reply({request_id}) !== null", message=f"a reply to {method}")
        return self.page.evaluate(f"window.reply({request_id})")

    def events(self, name):
        return self.page.evaluate(f"window.events({json.dumps(name)})")

    def wait_event(self, name, condition="true", timeout=30):
        self.tab.wait(f"window.events({json.dumps(name)}).some((e) => {condition})", timeout=timeout,
                      message=f"a {name} event where {condition}")
        return self.events(name)[-1]


def test_a_host_page_on_another_origin_drives_the_embed(network, published, other_origin, tab):
    tracker, vid = network.tracker.url, published["video_id"]
    url = other_origin.put("/embed-host.html", IFRAME_HOST.format(tracker=tracker, video_id=vid))
    assert url.split("/")[2] != tracker.split("/")[2]  # another origin: another port
    tab.open(url)
    host = Host(tab)

    ready = host.wait_event("ready")
    assert ready["videoId"] == vid and ready["paused"] and ready["duration"] > 5
    assert host.events("play") == []  # ?autoplay=0 waits for the host

    assert host.command("play") == {"slipstream": "reply", "id": 1, "method": "play"}
    host.wait_event("play")
    host.wait_event("timeupdate", "e.currentTime > 1 && !e.paused")

    host.command("pause")
    paused = host.wait_event("pause")
    time_at_pause = host.command("getCurrentTime")["value"]
    assert abs(time_at_pause - paused["currentTime"]) < 0.3
    assert host.command("getState")["value"]["paused"] is True

    host.command("seek", 4.5)
    seeked = host.wait_event("seeked", "Math.abs(e.currentTime - 4.5) < 0.1")
    assert seeked["paused"]
    assert abs(host.command("getCurrentTime")["value"] - 4.5) < 0.1

    assert "value" not in host.command("volume", 0.25)
    host.wait_event("volumechange", "e.volume === 0.25")
    assert host.command("getState")["value"]["volume"] == 0.25

    host.command("play")
    ended = host.wait_event("ended", timeout=30)
    assert ended["currentTime"] > 5.5

    assert host.command("seek", -1)["error"].startswith("seek takes")
    assert host.command("volume", 2)["error"].startswith("volume takes")
    assert host.command("explode")["error"] == "unknown method explode"
    assert tab.problems == []


def test_one_script_tag_and_one_element_on_another_origin(network, published, other_origin, tab):
    vid = published["video_id"]
    url = other_origin.put("/script-tag.html", SCRIPT_TAG_HOST.format(tracker=network.tracker.url, video_id=vid))
    tab.open(url)
    tab.wait("document.querySelector('video').slipstream !== undefined", message="the player to attach")
    tab.wait(PLAYING, message="playback on the host page")
    state = tab.page.evaluate("document.querySelector('video').slipstream.snapshot()")
    assert state["tracker"] == network.tracker.url  # defaulted to the server the script came from
    assert state["state"] == "playing" and state["mode"] == "mse" and state["verified"]
    assert state["errors"] == [] and tab.problems == []
    # Every file hls.js played was checked against the manifest and counted.
    assert state["deliveries"] and sum(state["served"].values()) > sum(d["bytes"] for d in state["deliveries"])
    assert tab.page.evaluate("typeof Hls") == "function"  # loaded from the tracker, not a CDN


def test_the_embed_example_page_is_served(network, published, tab):
    tab.open(f"{network.tracker.url}/player/static/embed-example.html?v={published['video_id']}")
    tab.wait("document.getElementById('log').textContent.includes('event ready')", message="the ready event")
    tab.page.click("#play")
    tab.wait("document.getElementById('log').textContent.includes('event play')", message="the play event")
    assert tab.problems == []
