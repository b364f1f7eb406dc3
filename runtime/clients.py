"""Who a request comes from, as both roles' per-address limits count it.

Behind a reverse proxy every connection comes from the proxy, which appends the address it took the
request from to X-Forwarded-For. Only that last entry is the proxy's word: a client may send an
X-Forwarded-For of its own, and the proxy keeps what came before its entry. A claim in the request
itself (BitTorrent's `ip=`) never replaces it.
"""
import socket

from .connections import address_key

MAX_KEY = 64  # characters: an IPv6 /64 takes 24; anything longer is not an address


def client_address(remote, forwarded_for, trust_proxy):
    """The client's address as text: the socket's, or behind a trusted proxy the last entry of
    X-Forwarded-For (`forwarded_for` gives the header, or "", and is only called then)."""
    if trust_proxy:
        forwarded = forwarded_for().rpartition(",")[2].strip()
        if forwarded:
            return forwarded
    return remote or ""


def client_key(address):
    """What a per-address limit counts by, as text: an IPv4 address, or the /64 of an IPv6 one
    (`2001:db8:1:2::/64`), as the connection caps count (runtime/connections.py)."""
    try:
        key = address_key((address, 0))
    except (OSError, UnicodeError):  # not an address: a proxy's odd header, counted as the text it is
        return address[:MAX_KEY]
    if isinstance(key, bytes):
        return socket.inet_ntop(socket.AF_INET6, key + bytes(8)) + "/64"
    return key[:MAX_KEY]
