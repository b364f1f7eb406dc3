"""The ground the home-edge tests stand on (issue 18), each wall checked for real before anything is
built on it: homes reach the public side only through their NAT, nothing outside opens a connection
into a home, and Chromium on the https page refuses plain http to a host that is not loopback."""
import os
import socket
import sys

import pytest

from tests.actions import wait_for
from tests.servers import ROOT

HLS_JS = "node_modules/hls.js/dist/hls.min.js"  # served by the website as /player/vendor/hls.min.js

FETCH = """import sys, requests
answer = requests.get(sys.argv[1], verify=sys.argv[2], timeout=10)
print(answer.status_code)"""


def fetch_inside(namespace, url, ca_file):
    """GET `url` from a program run inside `namespace` (which resolves names by its hosts file)."""
    return int(namespace.run(sys.executable, "-c", FETCH, url, ca_file).stdout)


@pytest.mark.parametrize("home, nat", [("home1", "nat1"), ("home2", "nat2")])
def test_a_home_reaches_the_tracker_as_its_nat(internet, public_tracker, home, nat):
    before = len(public_tracker.proxy.access_log())
    assert fetch_inside(internet[home], "https://tracker.test/healthz", public_tracker.proxy.ca_file) == 200
    seen = public_tracker.proxy.access_log()[before:]
    assert [line.split()[0] for line in seen if "/healthz" in line] == [internet[nat].address]


def test_the_public_side_counts_what_each_home_exchanged(internet, public_tracker):
    """The counter the end-to-end tests read to show the tracker's side carried no video."""
    public, size = internet["public"], os.path.getsize(os.path.join(ROOT, HLS_JS))
    before = {nat: public.traffic(nat) for nat in ("nat1", "nat2")}
    assert fetch_inside(internet["home1"], "https://tracker.test/player/vendor/hls.min.js",
                        public_tracker.proxy.ca_file) == 200
    sent = {nat: public.traffic(nat)[1] - before[nat][1] for nat in before}
    # hls.js (sent uncompressed: neither nginx here nor the tracker gzips) went to home 1 only.
    assert sent["nat1"] >= size and sent["nat2"] < size / 50, sent


def connect(address, port, timeout=2):
    with socket.create_connection((address, port), timeout=timeout):
        return True


def test_nobody_outside_opens_a_connection_into_a_home(internet):
    home, nat, viewer = internet["home1"], internet["nat1"], internet["viewer"]
    listener = home.call(socket.create_server, (home.address, 8001))  # stays in home's namespace
    try:
        assert home.call(connect, home.address, 8001)  # it does listen
        # The NAT's public address: no port is forwarded, and the router's firewall drops the rest.
        with pytest.raises(TimeoutError):
            viewer.call(connect, nat.address, 8001)
        # The home's own address: not routed on the public side...
        with pytest.raises(OSError):
            viewer.call(connect, home.address, 8001)
        # ...and a neighbour that routes it to the NAT anyway meets the NAT's firewall.
        viewer.run("ip", "route", "add", "192.168.1.0/24", "via", nat.address)
        try:
            with pytest.raises(TimeoutError):
                viewer.call(connect, home.address, 8001)
        finally:
            viewer.run("ip", "route", "del", "192.168.1.0/24")
    finally:
        listener.close()


FETCH_IN_PAGE = """async (url) => {
  try { return (await fetch(url)).status; } catch (error) { return String(error); }
}"""


def test_chromium_in_the_viewer_opens_the_https_page_and_refuses_mixed_content(public_tracker, viewer_browser):
    context = viewer_browser.new_context()  # no ignore_https_errors: the certificate's key is pinned
    try:
        page = context.new_page()
        console = []
        page.on("console", lambda message: console.append(message.text))
        answer = page.goto("https://tracker.test/")
        assert answer.ok and page.evaluate("window.isSecureContext")
        assert page.evaluate(FETCH_IN_PAGE, "https://tracker.test/healthz") == 200
        # The tracker's own plain-http port answers the browser (from an http page)...
        plain = "http://tracker.test:8000/healthz"
        other = context.new_page()
        other.goto("http://tracker.test:8000/")
        assert other.evaluate(FETCH_IN_PAGE, plain) == 200
        # ...but the https page may not fetch it: tracker.test is not loopback, so mixed content is blocked.
        assert page.evaluate(FETCH_IN_PAGE, plain).startswith("TypeError")
        wait_for(lambda: any("Mixed Content" in text and plain in text for text in console),
                 message="Chromium's mixed-content refusal")
    finally:
        context.close()
