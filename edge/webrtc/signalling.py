"""The edge's signalling socket to one tracker (the tracker's side: tracker/webrtc/signalling.py).

It connects to `GET /api/v1/nodes/signal` (wss for an https tracker), checks the tracker's key from the
handshake's `Slipstream-Tracker` header against the pinned one (pinning it on first contact, as an
announce answer does: edge/trackerkey.py), says hello (a signed envelope naming the tracker), answers
each challenge with the URL proof /api/v1/proof would give, and answers each viewer's offer through
edge/webrtc/peers.py. websockets pings every PING seconds and closes a socket whose pong does not come;
a lost socket is opened again after a back-off doubling from 1 s to MAX_BACKOFF, with jitter.
"""
import asyncio
import json
import logging
import random
import time

import websockets

from protocol.proofs import prove
from protocol.signing import sign

from ..trackerkey import TrackerError
from .peers import Refused

log = logging.getLogger(__name__)

PATH = "/api/v1/nodes/signal"
PING = 20
MAX_BACKOFF = 60.0
MAX_MESSAGE = 64 * 1024


def socket_url(tracker_url):
    scheme, rest = tracker_url.split("://", 1)
    return ("wss" if scheme == "https" else "ws") + "://" + rest + PATH


class TrackerLink:
    def __init__(self, node, tracker, peers, on_proven):
        self.node, self.tracker, self.peers, self.on_proven = node, tracker, peers, on_proven
        self.ice_servers = []  # the tracker's STUN servers, from its `proven` message
        self.proven = False

    async def run(self):
        backoff = 1.0
        while True:
            try:
                await self.session()
            except (TimeoutError, OSError, websockets.WebSocketException, TrackerError, ValueError) as exc:
                log.warning("signalling socket to %s lost: %s", self.tracker.url, exc)
            if self.proven:
                backoff = 1.0  # it worked until now: come back soon
            self.proven = False
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def session(self):
        async with websockets.connect(socket_url(self.tracker.url), ping_interval=PING, ping_timeout=PING,
                                      max_size=MAX_MESSAGE, open_timeout=10, close_timeout=2) as socket:
            key = socket.response.headers.get("Slipstream-Tracker")
            self.tracker.check(key)  # a tracker with another key than the pinned one is refused
            hello = {"node": self.node.id, "tracker": key, "timestamp": time.time(), "kind": "signal"}
            await socket.send(json.dumps(sign(hello, self.node.key)))
            async for text in socket:
                await self.handle(socket, key, json.loads(text))

    async def handle(self, socket, key, message):
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "challenge":
            proof = prove(str(message.get("challenge")), key, self.node.public_url, self.node.key, self.node.id)
            await socket.send(json.dumps({"type": "proof", "proof": proof}))
        elif kind == "proven":
            first = not self.proven
            self.proven, self.ice_servers = True, message.get("ice_servers") or []
            if first:
                self.on_proven(self.tracker)
        elif kind == "offer":
            asyncio.ensure_future(self.answer(socket, message))

    async def answer(self, socket, message):
        reply = {"id": message.get("id")}
        try:
            sdp = await self.peers.answer(str(message.get("video")), str(message.get("sdp")), self.ice_servers)
            reply.update(type="answer", sdp=sdp)
        except Refused as exc:
            reply.update(type="refuse", reason=str(exc))
        try:
            await socket.send(json.dumps(reply))
        except websockets.ConnectionClosed:
            pass  # the tracker's request times out; the viewer moves on
