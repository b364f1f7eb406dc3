"""Issue 18, item 4, measured: which NAT behaviours of RFC 4787 the test NATs build, and whether a data
channel connects between two homes behind them (aiortc on both sides, a STUN responder on the public
side, descriptions carried by the test as the tracker's signalling would). The README's NAT table
is these results."""
import json
import subprocess
import sys

import pytest

from tests.netns.internet import Internet
from tests.netns.stun import Responder, mapped_addresses
from tests.servers import ROOT

STUN_PORTS = (3478, 3479)
CONNECT_SECONDS = 15  # two endpoint-independent NATs connect in about 5 s here


@pytest.fixture
def homes(request, tmp_path):
    """The internet with the NATs named by the parameter made symmetric, and STUN on the public side."""
    net = Internet(tmp_path, symmetric=request.param)
    responder = Responder(net["public"], STUN_PORTS)
    yield net
    responder.close()
    net.close()


@pytest.mark.parametrize("homes, same_mapping", [((), True), (("nat1", "nat2"), False)], indirect=["homes"],
                         ids=["masquerade", "random-fully"])
def test_masquerade_maps_endpoint_independently_and_random_fully_per_destination(homes, same_mapping):
    servers = [(homes["public"].address, port) for port in STUN_PORTS]
    for home, nat in (("home1", "nat1"), ("home2", "nat2")):
        seen = homes[home].call(mapped_addresses, servers)
        assert {address for address, _ in seen} == {homes[nat].address}
        assert (seen[0] == seen[1]) is same_mapping, seen


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


@pytest.mark.timeout(120)
@pytest.mark.parametrize("homes, connects", [((), True), (("nat2",), False), (("nat1", "nat2"), False)],
                         indirect=["homes"], ids=["both-masquerade", "one-random-fully", "both-random-fully"])
def test_a_data_channel_between_two_homes(homes, connects):
    stun_url = f"stun:{homes['public'].address}:{STUN_PORTS[0]}"
    with peer(homes["home1"], "offer", stun_url) as offerer, peer(homes["home2"], "answer", stun_url) as answerer:
        offer = relay(offerer, answerer)
        relay(answerer, offerer)
        # Each side offers its home address and the NAT's address STUN saw (no trickle).
        kinds = {line.split()[7] for line in offer["sdp"].splitlines() if line.startswith("a=candidate")}
        assert kinds == {"host", "srflx"}
        outcomes = [json.loads(offerer.stdout.readline()), json.loads(answerer.stdout.readline())]
    assert [outcome["open"] for outcome in outcomes] == [connects, connects], outcomes
    if connects:
        assert [outcome["message"] for outcome in outcomes] == ["pong", "ping"]
