"""Issue 18, item 1: a home edge maps its port on a real UPnP gateway (miniupnpd in its NAT
namespace), announces the mapped URL, the tracker proves it from outside, and the viewer's side can
then open a connection into the home; the mapping goes when the edge stops."""
import sqlite3

import pytest
import requests

from tests.actions import wait_for
from tests.netns.igd import Gateway
from tests.servers import start_edge, start_tracker

EDGE_PORT = 8001


@pytest.fixture(scope="module")
def tracker(internet, tmp_path_factory):
    """A plain-http tracker on the public side: the proof of an edge's URL is what is tested here."""
    server = start_tracker(tmp_path_factory.mktemp("tracker"), port=8000, namespace=internet["public"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(internet, tmp_path_factory):
    igd = Gateway(internet["nat1"], str(tmp_path_factory.mktemp("igd")), "192.168.1.0/24")
    yield igd
    igd.stop()


def node_row(tracker, node_id):
    """(announced URL, proven URL) as the tracker's ledger holds them."""
    with sqlite3.connect(f"{tracker.data_dir}/tracker.db") as database:
        return database.execute("SELECT url, proven_url FROM node WHERE id = ?", (node_id,)).fetchone()


def test_a_home_edge_maps_its_port_and_is_proven_at_the_mapped_url(internet, tracker, gateway, tmp_path):
    home, nat, viewer = internet["home1"], internet["nat1"], internet["viewer"]
    mapped = f"http://{nat.address}:{EDGE_PORT}"
    with pytest.raises(requests.ConnectionError):  # before: the NAT's port is closed
        viewer.call(requests.get, mapped + "/healthz", timeout=3)
    edge = start_edge(tmp_path / "edge", tracker.url, port=EDGE_PORT, namespace=home)
    try:
        assert edge.url == f"http://{home.address}:{EDGE_PORT}"  # its address on the home network
        wait_for(lambda: gateway.redirects(), message="miniupnpd's redirect")
        assert [f"dport {EDGE_PORT} dnat ip to {home.address}:{EDGE_PORT}" in rule
                for rule in gateway.redirects()] == [True]
        status = wait_for(lambda: (s := edge.get("/api/v1/status", timeout=5).json())["url"] == mapped and s,
                          message="the edge to use its mapped URL")
        assert viewer.call(requests.get, mapped + "/healthz", timeout=5).status_code == 200
        wait_for(lambda: node_row(tracker, status["node"]) == (mapped, mapped), timeout=30,
                 message="the tracker to prove the mapped URL")
    finally:
        edge.stop()
    wait_for(lambda: not gateway.redirects(), message="the mapping deleted when the edge stopped")
