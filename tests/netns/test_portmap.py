"""Issue 18, item 1: a home edge maps its port on a real UPnP gateway (miniupnpd in its NAT
namespace), announces the mapped URL to the https tracker, the tracker proves it from outside, and the
viewer's side can then open a connection into the home; the mapping goes when the edge stops."""
import sqlite3

import pytest
import requests

from tests.actions import wait_for
from tests.netns.homes import EDGE_PORT
from tests.netns.igd import Gateway


@pytest.fixture(scope="module")
def gateway(internet, tmp_path_factory):
    igd = Gateway(internet["nat1"], str(tmp_path_factory.mktemp("igd")), "192.168.1.0/24")
    yield igd
    igd.stop()


def node_row(tracker, node_id):
    """(announced URL, proven URL) as the tracker's ledger holds them."""
    with sqlite3.connect(f"{tracker.data_dir}/tracker.db") as database:
        return database.execute("SELECT url, proven_url FROM node WHERE id = ?", (node_id,)).fetchone()


def test_a_home_edge_maps_its_port_and_is_proven_at_the_mapped_url(internet, public_tracker, gateway, home_edge):
    home, nat, viewer = internet["home1"], internet["nat1"], internet["viewer"]
    mapped = f"http://{nat.address}:{EDGE_PORT}"
    with pytest.raises(requests.ConnectionError):  # before: the router lets nothing in
        viewer.call(requests.get, mapped + "/healthz", timeout=3)
    edge = home_edge("home1")
    assert edge.url == f"http://{home.address}:{EDGE_PORT}"  # its address on the home network
    wait_for(gateway.redirects, message="miniupnpd's redirect")
    assert [f"dport {EDGE_PORT} dnat ip to {home.address}:{EDGE_PORT}" in rule
            for rule in gateway.redirects()] == [True]
    status = wait_for(lambda: (s := edge.get("/api/v1/status", timeout=5).json())["url"] == mapped and s,
                      message="the edge to use its mapped URL")
    assert viewer.call(requests.get, mapped + "/healthz", timeout=5).status_code == 200
    wait_for(lambda: node_row(public_tracker, status["node"]) == (mapped, mapped), timeout=30,
             message="the tracker to prove the mapped URL")
    edge.stop()
    wait_for(lambda: not gateway.redirects(), message="the mapping deleted when the edge stopped")
