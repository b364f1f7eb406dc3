"""STUN (RFC 5389) for the NAT measurements: a Binding responder on the public side and a one-shot
client, both on aioice's message format. The responder answers from a thread of the test process on
sockets opened inside the public namespace (a socket stays in the namespace it was made in)."""
import socket
import threading

from aioice import stun


class Responder:
    """Answers Binding requests on each of `ports` of `namespace`'s address with XOR-MAPPED-ADDRESS."""

    def __init__(self, namespace, ports):
        self.sockets = [namespace.call(self._bind, namespace.address, port) for port in ports]
        self.threads = [threading.Thread(target=self._serve, args=(s,), daemon=True) for s in self.sockets]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _bind(address, port):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((address, port))
        return udp

    @staticmethod
    def _serve(udp):
        while True:
            try:
                data, peer = udp.recvfrom(2048)
            except OSError:  # closed
                return
            try:
                request = stun.parse_message(data)
            except ValueError:  # not STUN: ignored
                continue
            if request.message_method != stun.Method.BINDING or request.message_class != stun.Class.REQUEST:
                continue
            answer = stun.Message(stun.Method.BINDING, stun.Class.RESPONSE, request.transaction_id,
                                  {"XOR-MAPPED-ADDRESS": peer})
            udp.sendto(bytes(answer), peer)

    def close(self):
        for udp in self.sockets:
            udp.close()


def mapped_addresses(servers, timeout=2):
    """From ONE local UDP socket, a Binding request to each (address, port) of `servers`: the public
    (address, port) each saw. Equal for all under endpoint-independent mapping (RFC 4787, 4.1)."""
    seen = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(timeout)
        for server in servers:
            request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
            udp.sendto(bytes(request), server)
            answer = stun.parse_message(udp.recvfrom(2048)[0])
            assert answer.transaction_id == request.transaction_id
            seen.append(answer.attributes["XOR-MAPPED-ADDRESS"])
    return seen
