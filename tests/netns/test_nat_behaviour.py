"""Issue 18, item 4, measured: which NAT behaviours of RFC 4787 the test NATs build, and whether a data
channel connects across them: two homes (aiortc on both sides), a viewer with a public address and a
home (aiortc, then Chromium on the viewer's side), with the tracker's STUN on the public side and the
descriptions carried by the test as the tracker's signalling would. The README's NAT table is these
results."""
import json
import subprocess
import sys

import pytest
from playwright.sync_api import sync_playwright

from tests.actions import wait_for
from tests.netns import chromium
from tests.netns.internet import Internet
from tests.netns.stun import Responder, mapped_addresses
from tests.servers import ROOT, start_tracker

TRACKER_STUN, OTHER_STUN = 3478, 3479  # the tracker's responder, and a second endpoint to compare with
CONNECT_SECONDS = 15  # two endpoint-independent NATs connect in about 5 s here


# Which NATs are symmetric (`--random-fully`); the others keep MASQUERADE's default.
NATS = {"both-masquerade": (), "home2-random-fully": ("nat2",), "both-random-fully": ("nat1", "nat2")}


@pytest.fixture(scope="module", params=list(NATS))
def homes(request, tmp_path_factory):
    """The internet with the NATs the parameter names made symmetric, the tracker (with its STUN) on
    the public side, and a second STUN responder there. `homes.nats` is the parameter's name."""
    net = Internet(tmp_path_factory.mktemp("internet"), symmetric=NATS[request.param])
    net.nats = request.param
    try:
        tracker = start_tracker(tmp_path_factory.mktemp("tracker"), port=8000, namespace=net["public"],
                                TRACKER_STUN_PORT=str(TRACKER_STUN))
        responder = Responder(net["public"], [OTHER_STUN])
        yield net
        responder.close()
        tracker.stop()
    finally:
        net.close()


def tracker_stun(homes):
    return f"stun:{homes['public'].address}:{TRACKER_STUN}"


def test_masquerade_maps_endpoint_independently_and_random_fully_per_destination(homes):
    """One socket, two STUN servers (the tracker's and another port): the same public port under
    endpoint-independent mapping, two different ones under address-and-port-dependent mapping."""
    servers = [(homes["public"].address, port) for port in (TRACKER_STUN, OTHER_STUN)]
    for home, nat in (("home1", "nat1"), ("home2", "nat2")):
        seen = homes[home].call(mapped_addresses, servers)
        assert {address for address, _ in seen} == {homes[nat].address}
        assert (seen[0] == seen[1]) is (nat not in NATS[homes.nats]), seen


def peer(namespace, role, stun_url):
    return subprocess.Popen(namespace.command([sys.executable, "-m", "tests.netns.peer", role, stun_url,
                                               str(CONNECT_SECONDS)]),
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def relay(source, target):
    """One description from `source`'s output to `target`'s input; returns it."""
    line = source.stdout.readline()
    target.stdin.write(line)
    target.stdin.flush()
    return json.loads(line)


# Whether a data channel opened, as measured: two homes; a viewer with a public address and a home.
CONNECTS = {
    ("both-masquerade", "home1", "home2"): True,
    ("home2-random-fully", "home1", "home2"): False,
    ("both-random-fully", "home1", "home2"): False,
    ("both-masquerade", "viewer", "home2"): True,
    ("home2-random-fully", "viewer", "home2"): True,
    ("both-random-fully", "viewer", "home2"): True,
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("pair", [("home1", "home2"), ("viewer", "home2")], ids=["home-home", "public-home"])
def test_a_data_channel_between_two_peers(homes, pair):
    connects = CONNECTS[(homes.nats, *pair)]
    stun_url = tracker_stun(homes)
    offering, answering = (homes[name] for name in pair)
    with peer(offering, "offer", stun_url) as offerer, peer(answering, "answer", stun_url) as answerer:
        offer = relay(offerer, answerer)
        relay(answerer, offerer)
        # The offer holds every candidate (no trickle): the offerer's own address, and the address STUN
        # saw, which is its NAT's (or, for the viewer, its own again).
        candidates = [line.split() for line in offer["sdp"].splitlines() if line.startswith("a=candidate")]
        public = offering.address if pair[0] == "viewer" else homes[f"nat{pair[0][-1]}"].address
        assert {(c[4], c[7]) for c in candidates} == {(offering.address, "host"), (public, "srflx")}
        outcomes = [json.loads(offerer.stdout.readline()), json.loads(answerer.stdout.readline())]
    assert [outcome["open"] for outcome in outcomes] == [connects, connects], outcomes
    if connects:
        assert [outcome["message"] for outcome in outcomes] == ["pong", "ping"]


OFFER_IN_CHROMIUM = """async (stun) => {
  const connection = window.connection = new RTCPeerConnection({iceServers: [{urls: stun}]});
  const channel = connection.createDataChannel("slipstream");
  channel.onopen = () => channel.send("ping");
  channel.onmessage = (event) => { window.arrived = event.data; };
  await connection.setLocalDescription(await connection.createOffer());
  while (connection.iceGatheringState !== "complete") {
    await new Promise((done) => setTimeout(done, 50));
  }
  return {type: "offer", sdp: connection.localDescription.sdp};
}"""


# Chromium's side: a viewer with a public address, or one at home behind its own NAT (home 1's).
CHROMIUM_CONNECTS = {
    ("both-masquerade", "viewer"): True,
    ("home2-random-fully", "viewer"): True,
    ("both-random-fully", "viewer"): True,
    ("both-masquerade", "home1"): True,
    ("home2-random-fully", "home1"): False,
    ("both-random-fully", "home1"): False,
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewer", ["viewer", "home1"], ids=["chromium-public", "chromium-at-home"])
def test_chromium_opens_a_data_channel_to_a_home(homes, viewer, tmp_path):
    """The viewer's side as browsers are: Chromium's own ICE (its host candidates hidden behind mDNS
    names, which aiortc cannot resolve, so only what STUN saw can be used) to aiortc in home 2; the
    STUN server named as the sources answer names it, resolved by DNS (tests/netns/dns.py)."""
    connects = CHROMIUM_CONNECTS[(homes.nats, viewer)]
    seen_as = homes[viewer].address if viewer == "viewer" else homes["nat1"].address
    stun_url = f"stun:tracker.test:{TRACKER_STUN}"
    with sync_playwright() as p, peer(homes["home2"], "answer", stun_url) as answerer:
        browser = chromium.launch(p, str(tmp_path), homes, homes[viewer])
        try:
            page = browser.new_page()
            offer = page.evaluate(OFFER_IN_CHROMIUM, stun_url)
            candidates = [line.split() for line in offer["sdp"].splitlines() if line.startswith("a=candidate")]
            assert {(c[4].endswith(".local") or c[4], c[7]) for c in candidates} == {(True, "host"), (seen_as, "srflx")}
            answerer.stdin.write(json.dumps(offer) + "\n")
            answerer.stdin.flush()
            page.evaluate("(answer) => window.connection.setRemoteDescription(answer)",
                          json.loads(answerer.stdout.readline()))
            outcome = json.loads(answerer.stdout.readline())
            assert outcome["open"] is connects, outcome
            if connects:
                wait_for(lambda: page.evaluate("window.arrived") == "pong", message="Chromium to hear back")
        finally:
            browser.close()
