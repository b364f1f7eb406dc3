"""BitTorrent helpers for the tests: raw announces and scrapes, and a real libtorrent peer."""
import tempfile
import time
from urllib.parse import quote_from_bytes, urlencode

import libtorrent as lt
import requests

from tracker.bittorrent.bencode import bdecode


def announce_query(info_hash, peer_id, port, **extra):
    """A BEP 3 query string: the raw bytes of info_hash and peer_id percent-encoded, the rest as given."""
    return (f"info_hash={quote_from_bytes(info_hash)}&peer_id={quote_from_bytes(peer_id)}&port={port}"
            + ("&" + urlencode(extra) if extra else ""))


def scrape_query(*info_hashes):
    return "&".join(f"info_hash={quote_from_bytes(h)}" for h in info_hashes)


def get(tracker_url, path, query):
    answer = requests.get(f"{tracker_url}{path}?{query}", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/plain"
    return bdecode(answer.content)


class Peer:
    """A libtorrent session holding one torrent, known only by its info-hash, on loopback."""

    ALERTS = (lt.tracker_reply_alert, lt.tracker_error_alert, lt.tracker_warning_alert,
              lt.scrape_reply_alert, lt.scrape_failed_alert)

    def __init__(self, tracker_url, info_hash):
        self.session = lt.session({
            "listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
            "enable_upnp": False, "enable_natpmp": False, "alert_mask": lt.alert_category.all,
            # libtorrent only lets a tracker on localhost be asked for `/announce`; its scrape URL
            # (`/scrape`, BEP 48) is blocked as an SSRF attempt unless this is off.
            "ssrf_mitigation": False,
        })
        self.dir = tempfile.TemporaryDirectory(prefix="slipstream-lt-")
        params = lt.add_torrent_params()
        params.info_hashes = lt.info_hash_t(lt.sha1_hash(info_hash))
        params.trackers = [f"{tracker_url}/announce"]
        params.save_path = self.dir.name
        self.handle = self.session.add_torrent(params)
        self.port = self.session.listen_port()
        self.seen = []

    def wait_for(self, kind, timeout=30):
        """The first alert of `kind` (a libtorrent alert class), failing on a tracker error."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.session.wait_for_alert(200)
            for alert in self.session.pop_alerts():
                if isinstance(alert, self.ALERTS):
                    self.seen.append(alert)
                if isinstance(alert, (lt.tracker_error_alert, lt.scrape_failed_alert)) and kind not in (
                        lt.tracker_error_alert, lt.scrape_failed_alert):
                    raise AssertionError(f"tracker error: {alert.message()}")
                if isinstance(alert, kind):
                    return alert
        raise AssertionError(f"no {kind.__name__} in {timeout} s; saw {[a.message() for a in self.seen]}")

    def announce(self):
        # The tracker's min interval (BEP 3) would hold a re-announce back for 15 minutes.
        self.handle.force_reannounce(0, 0, lt.torrent_handle.ignore_min_interval)
        return self.wait_for(lt.tracker_reply_alert)

    def scrape(self):
        self.handle.scrape_tracker()
        return self.wait_for(lt.scrape_reply_alert)

    def close(self):
        self.session.remove_torrent(self.handle)
        del self.session
        self.dir.cleanup()
