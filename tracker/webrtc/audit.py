"""Audits of copies held by home edges (README.md, "Home edges"; nodes/audits.py does the checking).

A `webrtc` node's URL cannot be opened, so its copies are audited the way a viewer fetches them: the
auditor connects to the edge with aiortc through the edge's own signalling socket (the same relay as
`POST .../connect`, nodes/sockets.py) and asks for the manifest and the sampled files over a data
channel. That is also the outside measurement of its reachability: an edge whose ICE no tracker can
complete fails its audits like an edge whose URL went dark. The files cross the tracker's own network
interface, as HTTP audits do; no viewer's byte ever does.

aiortc needs asyncio, the auditor is a thread: the channel lives on a loop of its own, in one more
thread started at the first such audit.
"""
import asyncio
import contextlib
import threading

from protocol.datachannel import ChannelError, gather_on, open_channel

from ..db import database
from ..nodes.audits import AuditFailed
from ..nodes.reach import ice_servers
from ..nodes.sockets import Signal

CONNECT_TIMEOUT = 20.0  # seconds for the whole connect: the edge's answer (10 s at most), ICE, DTLS, SCTP
FILE_TIMEOUT = 30.0


class ChannelAudits:
    def __init__(self, app):
        self.app = app
        self.loop = None
        self.lock = threading.Lock()

    def running_loop(self):
        with self.lock:
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
                threading.Thread(target=self.loop.run_forever, name="tracker-channel-audits", daemon=True).start()
            return self.loop

    def run(self, coroutine, timeout):
        return asyncio.run_coroutine_threadsafe(coroutine, self.running_loop()).result(timeout + 5)

    @contextlib.contextmanager
    def __call__(self, node_id, video_id):
        """Yield `fetch_file(name, cap)` over a data channel to the node, for nodes/audits.audit."""
        app = self.app

        def exchange(sdp):
            with app.app_context(), database.connection_context():
                return Signal.exchange(node_id, video_id, sdp, app.config["CLOCK"](), 10.0)

        async def send_offer(sdp):
            answer, refusal = await asyncio.to_thread(exchange, sdp)
            if answer is None:
                raise AuditFailed(f"the edge refused the auditor's offer: {refusal}" if refusal
                                  else "the edge did not answer the auditor's offer")
            return answer

        try:
            peer, channel = self.run(open_channel(send_offer, ice_servers(app.config), CONNECT_TIMEOUT),
                                     CONNECT_TIMEOUT + 10)
        except AuditFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - ICE, DTLS or SCTP failing, in any of aiortc's ways
            raise AuditFailed(f"no data channel to the edge: {exc!r}") from None

        def fetch_file(name, cap):
            try:
                status, _, data = self.run(channel.get(name, timeout=FILE_TIMEOUT), FILE_TIMEOUT)
            except (TimeoutError, ChannelError) as exc:
                raise AuditFailed(f"{name} did not come over the data channel: {exc!r}") from None
            if status != 200:
                raise AuditFailed(f"{name} was answered {status} over the data channel")
            if len(data) > cap:
                raise AuditFailed(f"{name} is larger than {cap} bytes")
            return data

        try:
            yield fetch_file
        finally:
            self.run(peer.close(), 10)


def init_app(app):
    gather_on(app.config["SLIPSTREAM_ICE_ADDRESSES"])
    app.extensions["tracker.channel_audits"] = ChannelAudits(app)
