"""The tracker answers STUN Binding requests (RFC 5389) on UDP TRACKER_STUN_PORT, so viewers and home
edges learn the address their NAT gives them without asking a third party.

One thread in one process per machine (tracker/background.py's lock), a blocking socket: a Binding
answer is one datagram out per datagram in, no state kept. Anything that is not a well-formed Binding
request is dropped without an answer, so the port cannot be used to reflect other traffic at anyone.
"""
import logging
import socket
import threading

from aioice import stun

from ..background import machine_lock

log = logging.getLogger(__name__)

MAX_DATAGRAM = 548  # a Binding request is 20 bytes plus a few attributes; RFC 5389 section 7.1's bound


def answer(data, address):
    """The Binding success response for the datagram `data` from `address`, or None to drop it."""
    try:
        request = stun.parse_message(data)
    except ValueError:
        return None
    if request.message_method != stun.Method.BINDING or request.message_class != stun.Class.REQUEST:
        return None
    response = stun.Message(stun.Method.BINDING, stun.Class.RESPONSE, request.transaction_id)
    response.attributes["XOR-MAPPED-ADDRESS"] = address[:2]
    return bytes(response)


class Responder(threading.Thread):
    def __init__(self, host, port, lock_fd):
        super().__init__(name="tracker-stun", daemon=True)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.lock_fd = lock_fd

    def run(self):
        while True:
            try:
                data, address = self.sock.recvfrom(MAX_DATAGRAM)
            except OSError:
                return  # closed
            reply = answer(data, address)
            if reply is not None:
                try:
                    self.sock.sendto(reply, address)
                except OSError as exc:  # an unreachable sender is its own problem
                    log.debug("STUN answer to %s failed: %s", address, exc)

    def stop(self):
        self.sock.close()


def init_app(app):
    config = app.config
    if not config["TRACKER_BACKGROUND"] or not config["TRACKER_STUN_PORT"]:
        return
    fd = machine_lock(config["SLIPSTREAM_DATA_DIR"], "stun.lock")
    if fd is None:
        return  # another process of this tracker answers
    try:
        responder = Responder(config["TRACKER_STUN_HOST"], config["TRACKER_STUN_PORT"], fd)
    except OSError as exc:  # the port is another program's: the tracker serves on, without STUN
        log.error("STUN responder off: cannot bind UDP %s:%s: %s", config["TRACKER_STUN_HOST"],
                  config["TRACKER_STUN_PORT"], exc)
        return
    responder.start()
    app.extensions["tracker.stun"] = responder
