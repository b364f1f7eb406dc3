"""`GET /api/v1/nodes/signal` (WebSocket): the signalling socket each edge keeps open to each of its
trackers (README.md, "Home edges"; the edge's side is edge/webrtc/signalling.py).

The edge's first message is its signed hello, in the announces' envelope: `{"payload": {"node", "tracker",
"timestamp", "kind": "signal"}, "signature"}`, checked like an announce (signature, skew, replay) and
naming this tracker; anything else closes the socket with code 4401. The tracker then sends a challenge
(`{"type": "challenge", "challenge"}`) that the edge answers with the URL proof document /api/v1/proof
gives (`{"type": "proof", "proof": {...}}`): that proves the key holds this socket for that URL, which
is how an edge nobody can open is measured reachable over WebRTC (nodes/edge_announce.py). Once proven
the tracker says so (`{"type": "proven", "ice_servers"}`, the STUN servers the edge should gather with).

Offers reach the edge as `{"type": "offer", "id", "video", "sdp"}`; it answers `{"type": "answer", "id",
"sdp"}` or `{"type": "refuse", "id", "reason"}`. Offers come through the database (nodes/sockets.py):
this worker polls for its sockets' pending offers every POLL seconds, and only while it holds a socket.

ASGI gives an application no way to send a ping frame, so the tracker's side of the liveness check is a
fresh challenge every CHALLENGE_EVERY seconds: a socket whose edge does not prove itself again within
PROOF_TIMEOUT is closed (4408). The edge pings (websockets' ping frames, which gunicorn answers).
gunicorn's keep-alive timer is not armed while a WebSocket holds the connection, and the connection
still counts against the worker's caps (runtime/connections.py) until it closes.
"""
import asyncio
import functools
import json
import logging
import secrets

from protocol.errors import BadSignature
from protocol.proofs import check_proof, new_challenge

from .. import signed
from ..db import database
from ..errors import ApiError
from ..nodes.models import Node
from ..nodes.reach import ice_servers
from ..nodes.sockets import Signal, SignalSocket
from ..refusals import Refused

log = logging.getLogger(__name__)

PATH = "/api/v1/nodes/signal"
HELLO_TIMEOUT = 10.0
CHALLENGE_EVERY = 60.0
PROOF_TIMEOUT = 20.0
POLL = 0.05
SEND_TIMEOUT = 2.0  # seconds an offer may wait for the edge to read
REFRESH_EVERY = 20.0  # seconds between refreshes of this worker's sockets' `seen` (sockets.SOCKET_TTL is 60)
MAX_MESSAGE = 64 * 1024
UNAUTHORIZED, LATE, REPLACED = 4401, 4408, 4409
GOING_AWAY = 1001  # RFC 6455 section 7.4.1


class Closed(Exception):
    """The socket is to be closed with `code`."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code, self.reason = code, reason


class Signalling:
    """The signalling sockets one worker holds, and the loop that hands them their offers."""

    def __init__(self, app):
        self.app = app
        self.sessions = {}  # node id -> Session
        self.poller = None

    def in_thread(self, fn, *args):
        """Run database work on a thread, with the app's context and a pooled connection."""
        def work():
            with self.app.app_context(), database.connection_context():
                return fn(*args)
        return asyncio.get_running_loop().run_in_executor(None, work)

    def now(self):
        return self.app.config["CLOCK"]()

    async def __call__(self, scope, receive, send):
        if scope["path"] != PATH:
            await send({"type": "websocket.close", "code": 1008})  # before accept: an HTTP 403
            return
        await receive()  # websocket.connect
        # The tracker's key, for an edge that has not pinned it yet (a home edge's first announce
        # fails until its socket is proven, so no announce answer gave it one).
        await send({"type": "websocket.accept",
                    "headers": [(b"slipstream-tracker", self.app.config["TRACKER_ID"].encode())]})
        session = Session(self, receive, send)
        try:
            await session.run()
        except Closed as exc:
            await session.close(exc.code, str(exc.reason))
        except (OSError, RuntimeError):  # the edge went away mid-send
            pass
        finally:
            await session.end()

    def close_all(self):
        """The worker is shutting down: each socket closes (1001), and its edge opens another on a worker
        still running."""
        for session in list(self.sessions.values()):
            session.end_now(GOING_AWAY, "the tracker is restarting")

    def held(self, session):
        current = self.sessions.get(session.node)
        if current is not None and current is not session:
            current.replaced()
        self.sessions[session.node] = session
        if self.poller is None or self.poller.done():
            self.poller = asyncio.get_running_loop().create_task(self.poll())

    def released(self, session):
        if self.sessions.get(session.node) is session:
            del self.sessions[session.node]

    async def poll(self):
        """Hand each socket its pending offers; refresh the sockets' liveness now and then. Ends when
        this worker holds no socket."""
        loop = asyncio.get_running_loop()
        refreshed = 0.0
        while self.sessions:
            try:
                if loop.time() - refreshed >= REFRESH_EVERY:
                    refreshed = loop.time()
                    tokens = {node: s.token for node, s in self.sessions.items()}
                    still = await self.in_thread(self.refresh, tokens)
                    for node in set(tokens) - still:
                        if node in self.sessions:
                            self.sessions[node].replaced()
                tokens = {node: s.token for node, s in self.sessions.items()}
                pending = await self.in_thread(Signal.take, tokens, self.now())
                for row in pending:
                    session = self.sessions.get(row.node)
                    if session is not None:
                        await session.offer(row)
            except Exception:
                log.exception("signalling poll failed")
            await asyncio.sleep(POLL)

    def refresh(self, tokens):
        now = self.now()
        Signal.sweep(now)
        return SignalSocket.alive(tokens, now)


class Session:
    """One edge's socket on this worker."""

    def __init__(self, signalling, receive, send):
        self.signalling, self.receive_raw, self.send_raw = signalling, receive, send
        self.node = None
        self.token = secrets.token_hex(16)
        self.challenge = None
        self.challenged_at = 0.0
        self.ended = asyncio.Event()
        self.closing = None  # (code, reason) once it must end: another socket took over, or the worker stops
        self.woken = asyncio.Event()
        self.receiving = self.waking = None  # the tasks receive() waits on, kept across its calls

    async def send(self, message):
        await self.send_raw({"type": "websocket.send", "text": json.dumps(message)})

    async def receive(self, timeout):
        """The next JSON object from the edge; None if none came within `timeout`, or when the socket
        was woken (another socket took the node over). One receiving task lives across calls, so a
        quiet socket costs a timer, not a new task, per wait."""
        if self.receiving is None:
            self.receiving = asyncio.ensure_future(self.receive_raw())
        if self.waking is None:
            self.waking = asyncio.ensure_future(self.woken.wait())
        await asyncio.wait((self.receiving, self.waking), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not self.receiving.done():
            return None
        message, self.receiving = self.receiving.result(), None
        return self.read(message)

    @staticmethod
    def read(message):
        if message["type"] == "websocket.disconnect":
            raise Closed(1000, "gone")
        text = message.get("text")
        if text is None or len(text) > MAX_MESSAGE:
            raise Closed(1003, "messages are JSON text of at most 64 KiB")
        try:
            body = json.loads(text)
        except ValueError:
            raise Closed(1007, "not JSON") from None
        if not isinstance(body, dict):
            raise Closed(1007, "not a JSON object")
        return body

    async def run(self):
        hello = await self.receive(HELLO_TIMEOUT)
        try:
            self.node = await self.signalling.in_thread(self.accept_hello, hello)
        except (ApiError, Refused, ValueError) as exc:
            raise Closed(UNAUTHORIZED, str(exc)[:120]) from None
        self.signalling.held(self)
        loop = asyncio.get_running_loop()
        await self.ask_proof(loop)
        while True:
            if self.closing:
                raise Closed(*self.closing)
            waited = loop.time() - self.challenged_at
            if self.challenge is not None and waited >= PROOF_TIMEOUT:
                raise Closed(LATE, "no proof came for the challenge")
            if self.challenge is None and waited >= CHALLENGE_EVERY:
                await self.ask_proof(loop)
                waited = 0.0
            # Until the next thing due: a proof's deadline, or the next challenge.
            message = await self.receive((PROOF_TIMEOUT if self.challenge else CHALLENGE_EVERY) - waited)
            if message is not None:
                await self.handle(message)

    def accept_hello(self, hello):
        if hello is None:
            raise ValueError("no hello came")
        payload = signed.verified_payload(hello)
        config = self.signalling.app.config
        if payload.get("kind") != "signal" or payload.get("tracker") != config["TRACKER_ID"]:
            raise ValueError("the hello must be a signal hello to this tracker")
        SignalSocket.opened(payload["node"], self.token, payload["timestamp"], self.signalling.now())
        return payload["node"]

    async def ask_proof(self, loop):
        self.challenge, self.challenged_at = new_challenge(), loop.time()
        await self.send({"type": "challenge", "challenge": self.challenge})

    async def handle(self, message):
        kind = message.get("type")
        if kind == "proof" and self.challenge is not None:
            url = await self.signalling.in_thread(self.check, message.get("proof"))
            if url is None:
                raise Closed(UNAUTHORIZED, "the proof does not answer the challenge with this node's key")
            self.challenge = None
            await self.send({"type": "proven", "ice_servers": ice_servers(self.signalling.app.config)})
        elif kind in ("answer", "refuse") and isinstance(message.get("id"), str):
            answer = message.get("sdp") if kind == "answer" and isinstance(message.get("sdp"), str) else None
            reason = None if answer is not None else str(message.get("reason") or "refused")[:32]
            await self.signalling.in_thread(functools.partial(Signal.settle, message["id"], answer, reason,
                                                              node=self.node))

    def check(self, proof):
        """The URL the proof vouches for, recorded; None when it is no proof of this challenge."""
        config = self.signalling.app.config
        payload = proof.get("payload") if isinstance(proof, dict) else None
        url = payload.get("url") if isinstance(payload, dict) else None
        if not isinstance(url, str):
            return None
        try:
            check_proof(proof, self.challenge, config["TRACKER_ID"], url, self.node)
        except BadSignature:
            return None
        now = self.signalling.now()
        SignalSocket.proven(self.node, self.token, url, now)
        Node.proven_by_socket(self.node, url, now)
        return url

    async def offer(self, row):
        """Send an offer; an edge that does not read within SEND_TIMEOUT is closed, so that it cannot hold
        up the poll, and with it every other socket of this worker."""
        try:
            await asyncio.wait_for(self.send({"type": "offer", "id": row.id, "video": row.video, "sdp": row.offer}),
                                   SEND_TIMEOUT)
        except TimeoutError:
            self.end_now(LATE, "the edge does not read its socket")
        except Exception:  # noqa: BLE001 - the socket is gone (the edge restarted): another may take the offer
            await self.signalling.in_thread(Signal.untake, row.id)
            self.end_now(GOING_AWAY, "the socket failed")

    def replaced(self):
        self.end_now(REPLACED, "another socket of this node took over")

    def end_now(self, code, reason):
        self.closing = (code, reason)
        self.woken.set()

    async def close(self, code, reason):
        try:
            await self.send_raw({"type": "websocket.close", "code": code, "reason": reason[:120]})
        except (OSError, RuntimeError):
            pass

    async def end(self):
        for task in (self.receiving, self.waking):
            if task is not None:
                task.cancel()
        if self.node is None:
            return
        self.signalling.released(self)
        if self.closing is None:
            await self.signalling.in_thread(SignalSocket.closed, self.node, self.token)
