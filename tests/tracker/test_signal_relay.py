"""The relay of viewers' offers and the edges' signalling sockets in the database (tracker/nodes/sockets.py),
on SQLite and PostgreSQL: what several workers (or processes) of one tracker share."""
import threading

import pytest

from tracker.db import database
from tracker.nodes.sockets import ROW_TTL, SOCKET_TTL, Signal, SignalSocket
from tracker.refusals import Invalid

NODE, OTHER = "ab" * 32, "cd" * 32
URL = "http://home.example:8001"


@pytest.fixture
def db(app):
    with app.app_context(), database.connection_context():
        yield app.config["CLOCK"]()


def test_a_socket_vouches_for_the_url_it_proved_while_it_lives(db):
    now = db
    SignalSocket.opened(NODE, "worker-1", 100.0, now)
    assert not SignalSocket.vouches(NODE, URL, now)  # open, not yet proven
    SignalSocket.proven(NODE, "worker-1", URL, now)
    assert SignalSocket.vouches(NODE, URL, now) and not SignalSocket.vouches(NODE, URL + "/x", now)
    assert not SignalSocket.vouches(NODE, URL, now + SOCKET_TTL + 1)  # its worker stopped refreshing it
    SignalSocket.closed(NODE, "worker-1")
    assert not SignalSocket.vouches(NODE, URL, now) and not SignalSocket.is_live(NODE, now)


def test_a_replayed_hello_is_refused_even_after_its_socket_closed(db):
    now = db
    SignalSocket.opened(NODE, "worker-1", 100.0, now)
    SignalSocket.closed(NODE, "worker-1")
    with pytest.raises(Invalid):
        SignalSocket.opened(NODE, "worker-2", 100.0, now)


def test_a_newer_socket_takes_the_node_over(db):
    now = db
    SignalSocket.opened(NODE, "worker-1", 100.0, now)
    SignalSocket.opened(NODE, "worker-2", 101.0, now)
    assert SignalSocket.alive({NODE: "worker-1"}, now) == set()  # the first worker learns it lost it
    assert SignalSocket.alive({NODE: "worker-2"}, now) == {NODE}
    SignalSocket.closed(NODE, "worker-1")  # the loser's close changes nothing
    assert SignalSocket.is_live(NODE, now)


def test_an_offer_goes_out_once_and_its_answer_comes_back(app, db):
    now = db
    answers = []

    def viewer():
        with app.app_context(), database.connection_context():
            answers.append(Signal.exchange(NODE, "1" * 40, "v=0 offer", now, timeout=20))

    SignalSocket.opened(NODE, "worker-1", 100.0, now)  # the edge's old socket, not yet seen gone
    SignalSocket.opened(NODE, "worker-2", 101.0, now)  # the restarted edge's
    waiting = threading.Thread(target=viewer)
    waiting.start()
    taken = []
    while not taken:  # the sockets' workers poll, as tracker/webrtc/signalling.py does
        assert Signal.take({NODE: "worker-1"}, now) == []  # never through the node's older socket
        taken = Signal.take({NODE: "worker-2"}, now)
    assert Signal.take({NODE: "worker-2"}, now) == []  # taken once, by one worker
    Signal.untake(taken[0].id)  # its socket failed as it was sent: back for the node's next socket
    assert [row.id for row in Signal.take({NODE: "worker-2"}, now)] == [taken[0].id]
    assert taken[0].offer == "v=0 offer" and taken[0].video == "1" * 40
    Signal.settle(taken[0].id, "v=0 answer", None, node=OTHER)  # another node cannot answer it
    Signal.settle(taken[0].id, "v=0 answer", None, node=NODE)
    waiting.join(20)
    assert answers == [("v=0 answer", None)]
    assert Signal.select().count() == 0  # the viewer's request removed its row


def test_an_unanswered_offer_times_out_and_old_rows_are_swept(db):
    now = db
    assert Signal.exchange(NODE, "1" * 40, "v=0", now, timeout=0.2) == (None, None)
    Signal.create(id="old", node=NODE, video="1" * 40, offer="v=0", created=now - ROW_TTL - 1)
    SignalSocket.opened(NODE, "worker-1", 100.0, now)
    assert Signal.take({NODE: "worker-1"}, now) == []  # too old to send
    Signal.sweep(now)
    assert Signal.select().count() == 0
