"""Fixtures of the home-edge ground: the namespaces' internet, the tracker behind https on its public
side, and Chromium in the viewer's namespace. Each is torn down even when a test fails."""
import pytest
from playwright.sync_api import sync_playwright

from tests.netns import chromium
from tests.netns.homes import EDGE_PORT
from tests.netns.https import Authority, Proxy, trusting
from tests.netns.internet import Internet
from tests.servers import start_edge, start_tracker

TRACKER_PORT = 8000  # in the public namespace's own port space: no other run can hold it
TRACKER_STUN = 3478  # UDP, on the tracker's public address: the sources answer names stun:tracker.test:3478


@pytest.fixture(scope="module")
def internet(tmp_path_factory):
    net = Internet(tmp_path_factory.mktemp("internet"))
    yield net
    net.close()


@pytest.fixture(scope="module")
def public_tracker(internet, tmp_path_factory):
    """The tracker on the public side, behind nginx at https://tracker.test (it trusts nginx's
    X-Forwarded-For, so it sees its clients' addresses), STUN on, three copies a video (tests/netns/homes.py:
    the uploaded one and two homes')."""
    folder = tmp_path_factory.mktemp("public")
    tracker = start_tracker(folder / "tracker", port=TRACKER_PORT, namespace=internet["public"],
                            SLIPSTREAM_PUBLIC_URL="https://tracker.test", TRACKER_TRUST_PROXY="1",
                            TRACKER_STUN_PORT=str(TRACKER_STUN), TRACKER_REPLICAS="3")
    try:
        tracker.proxy = Proxy(internet["public"], str(folder / "nginx"), Authority(str(folder / "ca")),
                              "tracker.test", tracker.url)
        yield tracker
    finally:
        tracker.stop()


@pytest.fixture(scope="module")
def viewer_browser(internet, public_tracker, tmp_path_factory):
    with sync_playwright() as p:
        browser = chromium.launch(p, str(tmp_path_factory.mktemp("chromium")), internet, internet["viewer"],
                                  pins=[public_tracker.proxy.pin])
        yield browser
        browser.close()


@pytest.fixture
def home_edge(internet, public_tracker, tmp_path):
    """`home_edge("home1", **env)`: an edge in that home at http://<home address>:8001, announcing to
    https://tracker.test through its NAT and trusting the test CA there; stopped at the end of the test."""
    started = []

    def start(home, **env):
        edge = start_edge(tmp_path / f"edge-{home}", public_tracker.proxy.url, port=EDGE_PORT,
                          namespace=internet[home], **trusting(public_tracker.proxy.ca_file), **env)
        started.append(edge)
        return edge
    yield start
    for edge in started:
        edge.stop()
