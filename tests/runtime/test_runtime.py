"""What both roles run on (runtime/): the shared gunicorn worker's loop and the settings parsers."""
import asyncio
import socket

import pytest

from runtime import settings
from runtime.worker import SharingLoop


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
