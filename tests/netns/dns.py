"""A DNS server for the small internet (dnspython's message format): A records for its names, from a
thread of the test process on a UDP socket opened inside the public namespace. Browsers resolve a STUN
server's name by DNS: Chromium's WebRTC ignores `--host-resolver-rules` and /etc/hosts alike (measured:
no server-reflexive candidate for `stun:tracker.test` without this)."""
import socket
import threading

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

PORT = 53


class NameServer:
    def __init__(self, namespace, names):
        self.names = names
        self.udp = namespace.call(socket.socket, socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((namespace.address, PORT))
        threading.Thread(target=self._serve, daemon=True).start()

    def answer(self, data):
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        address = self.names.get(question.name.to_text(omit_final_dot=True).lower())
        if address is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", address))
        return response.to_wire()  # a known name asked for another type: no records, no error

    def _serve(self):
        while True:
            try:
                data, peer = self.udp.recvfrom(4096)
            except OSError:  # closed
                return
            try:
                self.udp.sendto(self.answer(data), peer)
            except dns.exception.DNSException:  # not a query we can read: dropped
                continue

    def close(self):
        self.udp.close()
