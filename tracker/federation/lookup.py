"""Federated lookup: the sources of a video this tracker does not know, asked of its peer trackers.

A tracker asks every peer it knows (`TRACKER_PEERS`, plus the trackers that asked it) in parallel:
`GET {peer}/api/v1/videos/<id>/sources?hops=&visited=&from=`. `hops` bounds how far the question
travels, `visited` (every tracker already asked, or being asked) keeps it from going round a cycle,
and each hop waits less than the one before (TIMEOUT × hops left), so a dead peer only ever costs
the asker its timeout. The first answer with sources wins and keeps its `found_by`, the tracker the
donation ledger pays; answers are cached for TTL seconds, misses for a tenth of that.
"""
import concurrent.futures
import json
import threading

from flask import Blueprint, current_app, request
from prometheus_client import Counter

from protocol.http import GuardedClient, UnsafeRequest

from .. import ratelimits
from ..errors import ApiError
from ..nodes.reach import ice_servers
from ..nodes.urls import check_node_url

bp = Blueprint("federation", __name__)

MAX_VISITED = 64  # trackers listed in `visited`; past that the lookup has spread far enough
MAX_LEARNT = 100  # peers learnt from the lists of trusted peers, per worker
CACHE_MAX = 10_000
MAX_ANSWER = 64 * 1024  # a sources answer lists at most 20 edges


class Federation:
    def __init__(self, app):
        self.config, self.learnt, self.cache, self.lock = app.config, {}, {}, threading.Lock()
        self.learnt_at = float("-inf")  # when the trusted peers' lists were last read
        # Peers are servers like any other: checked addresses, no redirects, deadlines, size caps.
        self.client = GuardedClient(allow_private=app.config["TRACKER_ALLOW_PRIVATE"], max_bytes=MAX_ANSWER,
                                    deadline=app.config["TRACKER_FEDERATION_TIMEOUT"]
                                    * max(app.config["TRACKER_FEDERATION_HOPS"], 1))
        registry = app.extensions["tracker.metrics"].registry
        self.lookups = Counter("tracker_source_lookups", "Sources lookups, by where the answer came from",
                               ["result"], registry=registry)
        self.hops = Counter("tracker_federation_requests", "Lookups sent to peer trackers (hops), by result",
                            ["result"], registry=registry)
        for result in ("local", "found", "missing", "cached"):
            self.lookups.labels(result)
        for result in ("found", "missing", "failed"):
            self.hops.labels(result)

    def peers(self):
        return list(dict.fromkeys(self.config["TRACKER_PEERS"] + list(self.learnt)))

    def learn(self, now):
        """Read the peer lists of the configured peers (`/api/v1/trackers`) once per
        TRACKER_FEDERATION_TTL: trackers this one trusts vouch for the trackers they ask. A query
        parameter never adds a peer, or anyone could point our lookups at any server."""
        if now - self.learnt_at < self.config["TRACKER_FEDERATION_TTL"]:
            return
        self.learnt_at = now
        with concurrent.futures.ThreadPoolExecutor(max(len(self.config["TRACKER_PEERS"]), 1)) as pool:
            lists = list(pool.map(self.peer_list, self.config["TRACKER_PEERS"]))
        for url in (url for listed in lists for url in listed):
            if url != self.config["SLIPSTREAM_PUBLIC_URL"] and len(self.learnt) < MAX_LEARNT:
                self.learnt[url] = True

    def peer_list(self, peer):
        """The peers a trusted peer lists, checked like an edge's URL; [] when it cannot say."""
        try:
            listed = self.client.get_json(f"{peer}/api/v1/trackers",
                                          deadline=self.config["TRACKER_FEDERATION_TIMEOUT"]).get("peers")
        except UnsafeRequest:
            return []
        found = []
        for url in listed[:MAX_LEARNT] if isinstance(listed, list) else []:
            try:
                found.append(check_node_url(url, self.config["TRACKER_ALLOW_PRIVATE"]))
            except ApiError:
                continue
        return found

    def lookup(self, video_id, hops, visited, admit=lambda: None):
        """A peer's sources answer for `video_id`, or None; cached either way. `admit` is called
        before the peers are asked (not for a cached answer), and may refuse by raising."""
        now = self.config["CLOCK"]()
        hit = self.cache.get(video_id)
        if hit and hit[0] > now:
            self.lookups.labels("cached").inc()
            return hit[1]
        if hops <= 0:
            self.lookups.labels("missing").inc()
            return None  # the hop limit, not an answer: nothing to cache
        if self.config["TRACKER_PEERS"]:  # with none, no peer is asked: nothing to limit
            admit()
        me = self.config["SLIPSTREAM_PUBLIC_URL"]
        self.learn(now)
        targets = [p for p in self.peers() if p not in visited and p != me]
        answer = self.ask(targets, video_id, hops, visited | set(targets) | {me})
        self.lookups.labels("found" if answer else "missing").inc()
        ttl = self.config["TRACKER_FEDERATION_TTL"] / (1 if answer else 10)
        with self.lock:
            if len(self.cache) >= CACHE_MAX:
                self.cache = {}
            self.cache[video_id] = (now + ttl, answer)
        return answer

    def ask(self, targets, video_id, hops, visited):
        if not targets:
            return None
        wait = self.config["TRACKER_FEDERATION_TIMEOUT"] * hops
        params = {"hops": hops - 1, "visited": ",".join(sorted(visited)[:MAX_VISITED]),
                  "from": self.config["SLIPSTREAM_PUBLIC_URL"]}
        pool = concurrent.futures.ThreadPoolExecutor(len(targets), thread_name_prefix="federation")
        futures = [pool.submit(self.ask_one, url, video_id, params, wait) for url in targets]
        try:
            for future in concurrent.futures.as_completed(futures, timeout=wait):
                if (answer := future.result()) is not None:
                    return answer
        except concurrent.futures.TimeoutError:
            pass
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return None

    def ask_one(self, url, video_id, params, wait):
        try:
            answer = self.client.request("GET", f"{url}/api/v1/videos/{video_id}/sources", params=params,
                                         deadline=wait)
        except UnsafeRequest:
            self.hops.labels("failed").inc()
            return None
        answer = read_answer(answer, video_id, self.config["TRACKER_ALLOW_PRIVATE"])
        self.hops.labels("found" if answer else "missing").inc()
        return answer


def read_answer(answer, video_id, allow_private):
    """A peer's answer, checked like any untrusted input: only well-formed, public edge URLs.
    Anything else, however malformed, is a miss (None), never an exception."""
    try:
        body = json.loads(answer.body) if answer.status == 200 else None
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("video_id") != video_id or not isinstance(body.get("found_by"), str) \
            or not isinstance(body.get("sources"), list):
        return None
    sources = []
    for source in body["sources"]:
        try:
            sources.append(read_source(source, allow_private))
        except (ApiError, KeyError, TypeError, ValueError):
            return None
    return {"video_id": video_id, "sources": sources, "found_by": body["found_by"]} if sources else None


def read_source(source, allow_private):
    """A peer's source: its node and URL, and how to reach it (README.md, "Home edges"): a `webrtc`
    source keeps the peer's connect URL and token, since only that peer relays to that edge."""
    read = {"node": str(source["node"]), "url": check_node_url(source["url"], allow_private)}
    reach = source.get("reach")
    if reach is None:
        return read  # a peer older than home edges
    if reach not in ("https", "http", "webrtc"):
        raise ValueError(f"unknown reach {reach!r}")
    read["reach"] = reach
    if reach == "webrtc":
        if not isinstance(source.get("token"), str) or len(source["token"]) > 1024:
            raise ValueError("a webrtc source needs its token")
        read["connect"] = check_node_url(source["connect"], allow_private)
        read["token"] = source["token"]
    return read


def requested_hops():
    """The `hops` of a sources request, at most TRACKER_FEDERATION_HOPS (also its default); a 400
    unless it is a non-negative integer, whether or not the video is known here."""
    limit = current_app.config["TRACKER_FEDERATION_HOPS"]
    hops = request.args.get("hops")
    if hops is None:
        return limit
    if not (hops.isascii() and hops.isdecimal()):
        raise ApiError(400, "invalid_hops", "hops must be a non-negative integer")
    digits = hops.lstrip("0") or "0"  # int() is slow on thousands of digits; past 3 it is over any limit
    return limit if len(digits) > 3 else min(int(digits), limit)


def sources(video_id, hops):
    """The answer of `GET .../sources` for a video this tracker does not know: a peer's, or a 404."""
    answer = peers_sources(video_id, hops)
    if answer is None:
        raise ApiError(404, "unknown_video", "neither this tracker nor its peers know a video with that id")
    return {**answer, "ice_servers": ice_servers(current_app.config)}


def peers_sources(video_id, hops):
    """A peer's sources answer for `video_id`, or None: for a video this tracker does not know, or
    knows from a peer's change feed but holds on none of its own edges."""
    federation = current_app.extensions["tracker.federation"]
    visited = set(filter(None, request.args.get("visited", "").split(",")[:MAX_VISITED]))
    # Only a lookup that asks the peers costs: a flood of them would have this tracker flood its peers.
    return federation.lookup(video_id, hops, visited, admit=lambda: ratelimits.take("lookups"))


@bp.get("/api/v1/trackers")
def trackers():
    """This tracker's public URL and the peer trackers it asks (configured, then learnt from the
    configured peers' own lists)."""
    return {"tracker": current_app.config["SLIPSTREAM_PUBLIC_URL"],
            "peers": current_app.extensions["tracker.federation"].peers()}


def counted(result):
    current_app.extensions["tracker.federation"].lookups.labels(result).inc()


def init_app(app):
    app.extensions["tracker.federation"] = Federation(app)
    app.register_blueprint(bp)
