"""`GET /announce` and `GET /scrape`: a BitTorrent tracker (BEP 3, 7, 23, 48) for video ids.

A video's id is 20 bytes, the size of an info-hash, so any BitTorrent client can join the swarm of
a video the catalog knows (others get a `failure reason`, as on a tracker with a whitelist). Edges
count as seeders of the videos they hold (in `complete` and scrape counts, not in peer lists: they
speak HTTP, not the peer wire protocol); plain peers are swarm peers only, never video sources.
These two paths are served as plain WSGI in front of Flask: they are the hot path (thousands of
requests a second) and need the raw query bytes anyway (see query.py).
"""
import ipaddress
import random
from urllib.parse import urlsplit

from prometheus_client import Counter

from .bencode import bencode
from .pgswarm import PostgresSwarms
from .query import BadRequest, first, integer, parse_query, peer_address, twenty_bytes
from .swarm import Swarms
from .videoindex import Unavailable, VideoIndex

NUMWANT, MAX_NUMWANT = 50, 100
MAX_SCRAPE = 64  # info-hashes per scrape; more is a failure, not a silent cut
EVENTS = {b"", b"started", b"completed", b"stopped", b"paused"}  # BEP 3, and BEP 21's "paused"
HEADERS = [("Content-Type", "text/plain"), ("Cache-Control", "no-cache")]
# Announces and scrapes are GETs (BEP 3); any other method is refused before the query is read.
METHODS = ("GET", "HEAD")
NOT_ALLOWED = b"announce and scrape take GET (BEP 3)\n"
NOT_ALLOWED_HEADERS = [("Allow", ", ".join(METHODS)), ("Content-Type", "text/plain"),
                       ("Content-Length", str(len(NOT_ALLOWED)))]


class BitTorrent:
    def __init__(self, app):
        config = app.config
        self.interval, self.trust_proxy = config["TRACKER_BT_INTERVAL"], config["TRACKER_TRUST_PROXY"]
        self.clock = config["CLOCK"]
        self.swarms = swarms_for(config)
        self.videos = VideoIndex(app)
        requests = Counter("tracker_bittorrent_requests", "BitTorrent announces and scrapes, by result",
                           ["kind", "result"], registry=app.extensions["tracker.metrics"].registry)
        self.count = {(f"/{k}", r): requests.labels(k, r) for k in ("announce", "scrape") for r in ("ok", "failure")}
        self.routes = {"/announce": self.announce, "/scrape": self.scrape}

    def answer(self, path, query, client):
        """The bencoded body answering `path` (/announce or /scrape) with the raw `query` bytes from
        `client` (see peer_address), or None for any other path. BEP 3: a failure is still a 200
        whose body says why."""
        handler = self.routes.get(path)
        if handler is None:
            return None
        try:
            answer, result = handler(client, parse_query(query), self.clock()), "ok"
        except (BadRequest, Unavailable) as exc:
            answer, result = {"failure reason": str(exc)}, "failure"
        self.count[path, result].inc()
        return answer if isinstance(answer, bytes) else bencode(answer)

    def dispatch(self, flask_app):
        """A WSGI app answering /announce and /scrape itself and passing the rest on to Flask."""
        def app(environ, start_response):
            path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
            if path not in self.routes:
                return flask_app(environ, start_response)
            if method not in METHODS:
                start_response("405 Method Not Allowed", NOT_ALLOWED_HEADERS)
                return [NOT_ALLOWED]
            client = (environ.get("REMOTE_ADDR"), lambda: environ.get("HTTP_X_FORWARDED_FOR", ""))
            # PEP 3333 gives the query as latin-1 text: encoding it back gives the raw bytes.
            body = self.answer(path, environ.get("QUERY_STRING", "").encode("latin-1"), client)
            start_response("200 OK", HEADERS + [("Content-Length", str(len(body)))])
            return [b"" if method == "HEAD" else body]
        return app

    def announce(self, client, params, now):
        info_hash, peer_id = twenty_bytes(params, b"info_hash"), twenty_bytes(params, b"peer_id")
        port = integer(params, b"port", None, 0, 65536)
        if port is None or not 1 <= port <= 65535:
            raise BadRequest("port must be from 1 to 65535")
        event = first(params, b"event", b"")
        if event not in EVENTS:
            raise BadRequest("event must be started, completed, stopped or empty")
        left = integer(params, b"left", 1, 0, 2 ** 63)
        wanted = 0 if event == b"stopped" else integer(params, b"numwant", NUMWANT, 0, MAX_NUMWANT)
        edges = self.videos.edge_count(info_hash, now)
        if edges is None:
            raise BadRequest("unknown info_hash: this tracker tracks only the video ids of its catalog")
        ip, ignored_ip = peer_address(client, params, self.trust_proxy)
        interval = self.interval + random.randint(0, self.interval // 10)  # jitter spreads re-announces
        if event == b"stopped":
            self.swarms.put(info_hash, peer_id, None)
        else:
            row = (ip + port.to_bytes(2, "big"), int(left == 0), now + 2 * self.interval)
            self.swarms.put(info_hash, peer_id, row, completed=event == b"completed")
        view = self.swarms.swarm(info_hash, now)
        answer = {"interval": interval, "min interval": self.interval // 2,
                  "complete": view.seeders + edges, "incomplete": view.leechers}
        chosen = self.swarms.pick(view, wanted, peer_id)
        if first(params, b"compact", b"1") == b"0":
            # BEP 3's original model; BEP 23's no_peer_id drops the ids.
            keep_id = first(params, b"no_peer_id") != b"1"
            answer["peers"] = [dict(ip=ip_text(a[:-2]), port=int.from_bytes(a[-2:], "big"),
                                    **({"peer id": pid} if keep_id else {})) for pid, a in chosen]
        else:
            # BEP 23: 4 address bytes + 2 port bytes, big-endian; BEP 7: 16 + 2 in peers6.
            answer["peers"] = b"".join([a for _, a in chosen if len(a) == 6])
            answer["peers6"] = b"".join([a for _, a in chosen if len(a) == 18])
            if not ignored_ip:
                return compact_answer(answer)
        if ignored_ip:
            answer["warning message"] = "the ip parameter is ignored: peers are listed at the address they connect from"
        return answer

    def scrape(self, client, params, now):
        """BEP 48: counts for each requested info-hash this tracker knows; no full scrape."""
        hashes = list(dict.fromkeys(params.get(b"info_hash", [])))
        if not hashes:
            raise BadRequest("scrape needs at least one info_hash (full scrape is not offered)")
        if len(hashes) > MAX_SCRAPE or any(len(h) != 20 for h in hashes):
            raise BadRequest(f"scrape takes 1 to {MAX_SCRAPE} info_hash values of 20 bytes each")
        edges = {h: self.videos.edge_count(h, now) for h in hashes}
        known = [h for h in hashes if edges[h] is not None]
        counts = self.swarms.counts(known, now)
        return {"files": {h: {"complete": counts[h][0] + edges[h], "incomplete": counts[h][1],
                               "downloaded": counts[h][2]} for h in known}}


def swarms_for(config):
    """The swarms beside the catalog: in its PostgreSQL database, where every process of the tracker
    (on any host) shares them; else in swarm.db in the data dir, shared by the workers of this one."""
    if urlsplit(config["DATABASE_URL"]).scheme.startswith("postgres"):
        return PostgresSwarms(config["DATABASE_URL"], config["TRACKER_SWARM_FLUSH"], config["CLOCK"])
    return Swarms(f"{config['SLIPSTREAM_DATA_DIR']}/swarm.db", config["TRACKER_SWARM_FLUSH"], config["CLOCK"])


def compact_answer(a):
    """bencode(a) for the usual answer, in one step (keys in bencoding's sorted order): the hot path."""
    return (b"d8:completei%de10:incompletei%de8:intervali%de12:min intervali%de5:peers%d:%s6:peers6%d:%se"
            % (a["complete"], a["incomplete"], a["interval"], a["min interval"],
               len(a["peers"]), a["peers"], len(a["peers6"]), a["peers6"]))


def ip_text(packed):
    return str(ipaddress.ip_address(packed))


def init_app(app):
    bittorrent = app.extensions["tracker.bittorrent"] = BitTorrent(app)
    app.wsgi_app = bittorrent.dispatch(app.wsgi_app)
