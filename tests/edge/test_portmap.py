"""The edge's port mapping (edge/portmap.py) without a router: which URLs it maps, and how the mapped
URL reaches every worker. The mapping itself, on a real gateway, is tests/netns/test_portmap.py."""
import pytest

from edge import background
from edge.portmap import PortMapper, clear_mapped_url, local_port, needs_mapping, write_mapped_url


@pytest.mark.parametrize("url, mapped", [
    ("http://192.168.1.20:8001", True),   # a home network
    ("http://10.0.0.5:8001", True),
    ("http://100.64.3.4:8001", True),     # a carrier's shared space: the home router may still map
    ("http://[fd00::5]:8001", True),      # an IPv6 ULA
    ("http://127.0.0.1:8001", False),     # make run, tests: nobody outside this machine
    ("http://localhost:8001", False),
    ("http://169.254.1.1:8001", False),   # link-local: no router in between
    ("http://203.0.113.10:8001", False),  # documentation range: no home router hands it out
    ("http://8.8.4.4:8001", False),       # already public
    ("https://edge.example.org", False),  # the operator's own name
])
def test_only_an_address_on_a_private_network_is_mapped(url, mapped):
    assert needs_mapping(url) is mapped


@pytest.mark.parametrize("url, port", [("http://192.168.1.2:8001", 8001), ("http://192.168.1.2", 80),
                                       ("https://192.168.1.2", 443)])
def test_the_port_mapped_is_the_configured_urls(url, port):
    assert local_port(url) == port


def test_every_worker_announces_the_mapped_url_while_it_is_held(app):
    node = app.extensions["edge"]
    assert node.public_url == "http://edge.test"
    write_mapped_url(node, "http://20.0.0.11:8001")
    assert node.public_url == "http://20.0.0.11:8001"
    assert app.test_client().get("/api/v1/status").get_json()["url"] == "http://20.0.0.11:8001"
    clear_mapped_url(node)
    assert node.public_url == "http://edge.test"


@pytest.mark.parametrize("edge_config", [{"EDGE_UPNP": False}])
def test_a_start_clears_a_mapping_left_by_the_last_run_and_maps_nothing_when_off(app, edge_config):
    node = app.extensions["edge"]
    write_mapped_url(node, "http://20.0.0.11:8001")  # a run that crashed before deleting it
    app.config["SLIPSTREAM_PUBLIC_URL"] = node.configured_url = "http://192.168.1.2:8001"
    running = background.start(app)
    try:
        assert node.public_url == "http://192.168.1.2:8001"
        assert not [thread for thread in running.threads if isinstance(thread, PortMapper)]
    finally:
        running.stop()
