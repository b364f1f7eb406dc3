"""What both roles run on (runtime/): the shared gunicorn worker's loop and the settings parsers."""
import asyncio
import socket

import pytest
from gunicorn.config import Config
from gunicorn_h1c import H1CProtocol

from runtime import settings
from runtime.connections import address_key
from runtime.protocol import GuardedProtocol
from runtime.worker import SharingLoop, use_c_parser


@pytest.mark.parametrize("text, value", [("1", True), (" Yes ", True), ("on", True), ("TRUE", True),
                                          ("0", False), ("off", False), ("", False), ("No", False),
                                          (True, True), (False, False)])
def test_flags_parse(text, value):
    assert settings.parse_bool("EDGE_BACKGROUND", text) is value


@pytest.mark.parametrize("parse, text", [(settings.parse_bool, "maybe"), (settings.parse_bool, "disabled"),
                                         (settings.parse_int, "2.5"), (settings.parse_float, "fast")])
def test_a_malformed_value_names_its_variable(parse, text):
    with pytest.raises(ValueError, match="^SOME_SETTING must be"):
        parse("SOME_SETTING", text)


def test_role_and_threads_come_from_the_environment():
    assert settings.role({}) == "tracker" and settings.role({"SLIPSTREAM_ROLE": "edge"}) == "edge"
    with pytest.raises(ValueError, match="SLIPSTREAM_ROLE"):
        settings.role({"SLIPSTREAM_ROLE": "both"})
    assert settings.threads({}) == 8 and settings.threads({"GUNICORN_THREADS": "3"}) == 3
    with pytest.raises(ValueError, match="GUNICORN_THREADS"):
        settings.threads({"GUNICORN_THREADS": "many"})


def test_the_workers_limits_come_from_the_environment():
    assert settings.limits({}) == (10.0, 1000, 20.0, 15, 4000, 64, 32 * 1024 * 1024)
    assert settings.limits({"SLIPSTREAM_HEADER_TIMEOUT": "2.5", "SLIPSTREAM_MAX_CONNECTIONS_PER_ADDRESS": "0"})[::5] \
        == (2.5, 0)
    for name, value in [("SLIPSTREAM_KEEPALIVE_TIMEOUT", "1.5"), ("SLIPSTREAM_BODY_MIN_RATE", "-1")]:
        with pytest.raises(ValueError, match=f"^{name} must"):
            settings.limits({name: value})


@pytest.mark.parametrize("peer, key", [
    (("203.0.113.7", 5000), "203.0.113.7"),
    (("2001:db8:1:2:aaaa::1", 5000, 0, 0), bytes.fromhex("20010db800010002")),
    (("2001:db8:1:2:ffff::9%eth0", 5000, 0, 0), bytes.fromhex("20010db800010002")),  # same /64, one count
    (("::ffff:203.0.113.7", 5000, 0, 0), "203.0.113.7"),  # IPv4 on a dual-stack socket: still itself
    ("/run/slipstream.sock", None),
])
def test_caps_count_ipv4_addresses_and_ipv6_64s(peer, key):
    assert address_key(peer) == key


def test_a_worker_takes_one_waiting_connection_per_wake_up():
    """So the workers sharing the listening socket share a burst of connections."""
    made = []

    class Keep(asyncio.Protocol):
        def connection_made(self, transport):
            made.append(transport)

    loop = SharingLoop()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
    try:
        loop._accept_connection(Keep, listener)  # what asyncio's loop calls on a wake-up
        left = [listener.accept()[0] for _ in range(2)]
        with pytest.raises(BlockingIOError):
            listener.accept()
        loop.run_until_complete(asyncio.sleep(0.1))  # the accepted connection's transport is made
        assert len(made) == 1
        for conn in left + made:
            conn.close()
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        for client in clients:
            client.close()
        listener.close()
        loop.close()


def test_the_workers_parse_heads_with_gunicorns_c_parser():
    """gunicorn falls back to its Python parser for a subclass of its protocol unless told (runtime/worker.py,
    where it is off for now)."""
    use_c_parser()
    connection = GuardedProtocol.__new__(GuardedProtocol)  # no worker or socket: only the parser is chosen
    connection.cfg = Config()
    connection._setup_callback_parser()
    assert isinstance(connection._callback_parser, H1CProtocol)
