"""Edges' signalling sockets and the offers relayed through them (README.md, "Home edges").

`SignalSocket`: which worker of this tracker holds a node's WebSocket, when it last showed life, and the
URL whose proof it signed over the socket (a challenge sent on the socket, protocol/proofs.py). A node
whose URL cannot be proven from outside, but which holds such a socket, is reachable over WebRTC: its
`reach` is `webrtc` and it is listed while the socket lives.

`Signal`: the relay of one viewer's offer. A viewer's POST may land on another worker (or another
process of this tracker) than the edge's socket, so the offer goes through the database: the POST
writes the row, the socket's worker takes it and sends it to the edge, writes the edge's answer or
refusal back, and the POST, which waits on its row, returns it. Rows live at most ROW_TTL seconds.
"""
import time
import uuid

from peewee import CharField, DoubleField, TextField

from ..db import BaseModel, write_transaction
from .models import refuse_replay

ROW_TTL = 60  # seconds a relayed offer's row is kept, answered or not
POLL = 0.05  # seconds between looks at a relayed offer's row: the socket's worker polls as often
SOCKET_TTL = 60  # seconds a socket counts as live after it last showed life (the worker refreshes it)


class SignalSocket(BaseModel):
    node = CharField(primary_key=True, max_length=64)
    worker = CharField(max_length=64)  # the holding socket's token: a newer socket of the node takes over
    url = CharField(max_length=2048, null=True)  # the URL its socket proof named; None until proven
    proven_at = DoubleField(default=0)
    seen = DoubleField(default=0, index=True)
    # The node's clock in its last accepted hello: an older or equal one is a replay. Kept when the socket
    # closes (the row stays, held by no worker), so a captured hello cannot open a socket later.
    last_timestamp = DoubleField(default=0)

    @classmethod
    def opened(cls, node, token, timestamp, now):
        """Take the node's hello on a new socket (which then holds the node), or refuse a replayed one."""
        with write_transaction():
            row = cls.get_or_none(cls.node == node)
            if row is not None:
                refuse_replay(timestamp, row.last_timestamp)
            cls.insert(node=node, worker=token, seen=now, url=None, proven_at=0, last_timestamp=timestamp).on_conflict(
                conflict_target=[cls.node], update={cls.worker: token, cls.seen: now, cls.url: None, cls.proven_at: 0,
                                                    cls.last_timestamp: timestamp}).execute()

    @classmethod
    def proven(cls, node, token, url, now):
        cls.update(url=url, proven_at=now, seen=now).where((cls.node == node) & (cls.worker == token)).execute()

    @classmethod
    def alive(cls, tokens, now):
        """Refresh the sockets a worker holds; return the nodes among them it still holds (a newer socket
        of the same node, on any worker, has taken the others over)."""
        nodes = {node for node, token in tokens.items()}
        if not nodes:
            return set()
        held = {n for (n, w) in cls.select(cls.node, cls.worker).where(cls.node.in_(list(nodes))).tuples()
                if tokens.get(n) == w}
        if held:
            cls.update(seen=now).where(cls.node.in_(list(held))).execute()
        return held

    @classmethod
    def closed(cls, node, token):
        cls.update(worker="", seen=0, url=None).where((cls.node == node) & (cls.worker == token)).execute()

    @classmethod
    def vouches(cls, node, url, now):
        """The node holds a live socket that proved `url` for it."""
        return cls.select().where((cls.node == node) & (cls.url == url) & (cls.seen >= now - SOCKET_TTL)).exists()

    @classmethod
    def is_live(cls, node, now):
        return cls.select().where((cls.node == node) & (cls.seen >= now - SOCKET_TTL)).exists()


class Signal(BaseModel):
    id = CharField(primary_key=True, max_length=32)
    node = CharField(max_length=64, index=True)
    video = CharField(max_length=40)
    offer = TextField()
    answer = TextField(null=True)  # the edge's answer SDP
    refusal = CharField(max_length=32, null=True)  # or why it refused: video_not_held, busy
    created = DoubleField(index=True)
    taken = DoubleField(null=True)  # when a socket's worker took it to send it to the edge

    @classmethod
    def take(cls, tokens, now):
        """The pending offers for the nodes whose socket this worker holds ({node: its socket's token}),
        marked taken: each goes out once, on one worker, and only through the node's newest socket — a
        worker still holding an older one (an edge restarted, its old socket not yet seen gone) takes none."""
        if not tokens:
            return []
        rows = list(cls.select(cls, SignalSocket.worker).join(SignalSocket, on=(SignalSocket.node == cls.node))
                    .where(cls.node.in_(list(tokens)) & cls.taken.is_null() & (cls.created >= now - ROW_TTL))
                    .objects())
        taken = []
        for row in rows:
            # Only the worker whose update marks the row sends it: two workers polling at once cannot.
            if tokens[row.node] == row.worker and \
                    cls.update(taken=now).where((cls.id == row.id) & cls.taken.is_null()).execute():
                taken.append(row)
        return taken

    @classmethod
    def untake(cls, signal_id):
        """Put back an offer whose socket failed as it was sent: the node's next socket takes it."""
        cls.update(taken=None).where((cls.id == signal_id) & cls.answer.is_null() & cls.refusal.is_null()).execute()

    @classmethod
    def settle(cls, signal_id, answer, refusal, node):
        """The edge's answer or refusal of an offer it was sent (only `node`'s own offers)."""
        cls.update(answer=answer, refusal=refusal).where((cls.id == signal_id) & (cls.node == node)
                                                         & cls.taken.is_null(False)).execute()

    @classmethod
    def outcome(cls, signal_id):
        """(answer, refusal) of a row, both None while it waits."""
        row = cls.select(cls.answer, cls.refusal).where(cls.id == signal_id).tuples().first()
        return row or (None, None)

    @classmethod
    def exchange(cls, node_id, video_id, sdp, now, timeout):
        """Write an offer for the worker holding the node's socket, then wait for the edge's (answer,
        refusal); (None, None) when none came within `timeout` seconds (a blocking wait on this thread)."""
        signal_id = uuid.uuid4().hex
        cls.create(id=signal_id, node=node_id, video=video_id, offer=sdp, created=now)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                answer, refusal = cls.outcome(signal_id)
                if answer is not None or refusal is not None:
                    return answer, refusal
                time.sleep(POLL)
        finally:
            cls.delete_by_id(signal_id)
        return None, None

    @classmethod
    def sweep(cls, now):
        cls.delete().where(cls.created < now - ROW_TTL).execute()


MODELS = [SignalSocket, Signal]
