"""The tracker's STUN responder (RFC 5389 Binding) on a real tracker on loopback, asked with aioice's
STUN messages as an ICE agent asks."""
import asyncio
import socket

import aioice
import pytest
from aioice import stun

from protocol.datachannel import gather_on
from tests.servers import free_port, start_tracker

DEADLINE = 10  # seconds a datagram may take on loopback: a bound, not a wait


@pytest.fixture(scope="module")
def stun_tracker(tmp_path_factory):
    port = free_port()
    tracker = start_tracker(tmp_path_factory.mktemp("stun"), TRACKER_STUN_PORT=str(port),
                            TRACKER_STUN_HOST="127.0.0.1")
    yield tracker, port
    tracker.stop()


def ask(sock, port, request):
    sock.sendto(bytes(request), ("127.0.0.1", port))


def answer_to(sock):
    data, _ = sock.recvfrom(2048)
    return stun.parse_message(data)


def client():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(DEADLINE)
    return sock


def test_a_binding_request_gets_the_client_address(stun_tracker):
    _, port = stun_tracker
    with client() as sock:
        request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
        ask(sock, port, request)
        response = answer_to(sock)
        address = sock.getsockname()
    assert response.message_class == stun.Class.RESPONSE
    assert response.transaction_id == request.transaction_id
    assert response.attributes["XOR-MAPPED-ADDRESS"] == address


def test_anything_but_a_binding_request_is_dropped(stun_tracker):
    """Garbage, a Binding indication and an Allocate request get nothing: the first answer that comes
    is the one to the Binding request sent after them."""
    _, port = stun_tracker
    with client() as sock:
        sock.sendto(b"\x00\x01 not stun at all", ("127.0.0.1", port))
        ask(sock, port, stun.Message(stun.Method.BINDING, stun.Class.INDICATION))
        ask(sock, port, stun.Message(stun.Method.ALLOCATE, stun.Class.REQUEST))
        request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
        ask(sock, port, request)
        response = answer_to(sock)
    assert response.transaction_id == request.transaction_id



def test_an_ice_agent_learns_its_address_from_the_tracker(stun_tracker):
    """aioice's own ICE agent, as aiortc and browsers use STUN: its server-reflexive candidate is the
    address and port its host candidate sends from (no NAT on loopback)."""
    _, port = stun_tracker
    gather_on(["127.0.0.1"])

    async def gather():
        connection = aioice.Connection(ice_controlling=True, stun_server=("127.0.0.1", port))
        try:
            await asyncio.wait_for(connection.gather_candidates(), DEADLINE)
            return connection.local_candidates
        finally:
            await connection.close()
    candidates = asyncio.run(gather())
    [host] = [c for c in candidates if c.type == "host"]
    [reflexive] = [c for c in candidates if c.type == "srflx"]
    assert (reflexive.host, reflexive.port) == (host.host, host.port) == (reflexive.related_address, reflexive.related_port)
