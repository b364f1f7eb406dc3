"""The signalling socket in gunicorn's worker (runtime/protocol.py's caps and deadlines): it outlives the
keep-alive and head timeouts while idle, it still counts against the per-address connection cap, and a
node proves its key on it."""
import json
import time

import nacl.signing
import pytest
import requests
import websockets.sync.client

from protocol.proofs import prove
from protocol.signing import node_id, sign
from tests.servers import start_tracker

IDLE = 3  # seconds of silence on the socket: three times both timeouts below


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    server = start_tracker(tmp_path_factory.mktemp("signal"), SLIPSTREAM_KEEPALIVE_TIMEOUT="1",
                           SLIPSTREAM_HEADER_TIMEOUT="1", SLIPSTREAM_MAX_CONNECTIONS_PER_ADDRESS="3")
    yield server
    server.stop()


def socket_url(tracker):
    return tracker.url.replace("http://", "ws://") + "/api/v1/nodes/signal"


def test_an_idle_socket_stays_open_and_its_node_proves_its_key(tracker):
    key = nacl.signing.SigningKey.generate()
    with websockets.sync.client.connect(socket_url(tracker), open_timeout=10, ping_interval=None) as socket:
        tracker_id = socket.response.headers["Slipstream-Tracker"]
        socket.send(json.dumps(sign({"node": node_id(key), "tracker": tracker_id, "timestamp": time.time(),
                                     "kind": "signal"}, key)))
        challenge = json.loads(socket.recv(timeout=10))
        assert challenge["type"] == "challenge"
        with pytest.raises(TimeoutError):  # nothing comes, and nothing closes it, for IDLE seconds
            socket.recv(timeout=IDLE)
        proof = prove(challenge["challenge"], tracker_id, "http://home.example", key, node_id(key))
        socket.send(json.dumps({"type": "proof", "proof": proof}))
        proven = json.loads(socket.recv(timeout=10))
    assert proven == {"type": "proven", "ice_servers": []}  # STUN is off on this tracker


def test_sockets_count_against_the_per_address_cap(tracker):
    with websockets.sync.client.connect(socket_url(tracker), open_timeout=10), \
            websockets.sync.client.connect(socket_url(tracker), open_timeout=10), requests.Session() as session:
        assert session.get(tracker.url + "/healthz", timeout=10).ok  # the third connection: the cap's last
        refused = requests.get(tracker.url + "/healthz", timeout=10)  # a fourth
    assert refused.status_code == 503 and refused.json()["error"] == "too_many_connections"
