"""Reading a BitTorrent request: its query string as bytes, and the peer's address.

`info_hash` and `peer_id` are 20 raw bytes, percent-encoded (BEP 3). A text decoder (Flask's
`request.args`, `urllib.parse.parse_qsl`) turns the bytes that are not UTF-8 into U+FFFD and
corrupts them, so the query is split and unquoted here as bytes.
"""
import functools
import ipaddress
from urllib.parse import unquote_to_bytes

from runtime.clients import client_address


class BadRequest(Exception):
    """An announce or scrape the tracker refuses; the message becomes BEP 3's `failure reason`."""


def parse_query(query):
    """{name: [raw byte values]} of the raw query string (bytes)."""
    params = {}
    for part in query.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            params.setdefault(unquote(name), []).append(unquote(value))
    return params


def unquote(raw):
    if b"%" not in raw and b"+" not in raw:
        return raw  # most values: numbers and words
    # info_hash and peer_id usually come with every byte escaped (%XX%XX…): one bytes.fromhex
    # decodes them five times faster than urllib's byte-by-byte loop, the announce's largest cost.
    # Whitespace, which fromhex skips, would leave fewer bytes than escapes: then urllib decides.
    n = len(raw) // 3
    if len(raw) == 3 * n and raw[::3] == b"%" * n:
        try:
            value = bytes.fromhex(raw.replace(b"%", b"").decode("ascii"))
        except ValueError:  # not hex (UnicodeDecodeError is one too): urllib keeps such escapes as they are
            value = b""
        if len(value) == n:
            return value
    return unquote_to_bytes(raw.replace(b"+", b" "))


def first(params, name, default=None):
    values = params.get(name)
    return values[0] if values else default


def twenty_bytes(params, name):
    value = first(params, name)
    if value is None or len(value) != 20:
        raise BadRequest(f"{name.decode()} must be 20 bytes")
    return value


def integer(params, name, default, low, high):
    value = first(params, name)
    if value is None or value == b"":
        return default
    if not (value.isdigit() and len(value) <= 20):
        raise BadRequest(f"{name.decode()} must be a non-negative integer")
    return min(max(int(value), low), high)


@functools.lru_cache(maxsize=4096)
def packed_address(text):
    """The 4 (IPv4) or 16 (IPv6) bytes of an address; an IPv4-mapped IPv6 address counts as IPv4."""
    address = ipaddress.ip_address(text)
    address = getattr(address, "ipv4_mapped", None) or address
    return address.packed


def peer_address(client, params, trust_proxy):
    """The peer's address: the connecting one, or behind a trusted proxy the client the proxy names
    (runtime/clients.py). BEP 3's `ip` and BEP 7's `ipv4`/`ipv6` are claims, so they never replace
    it; returns (packed address, whether a claimed `ip` was ignored). `client` is (connecting
    address, a function giving the X-Forwarded-For header or "")."""
    address = client_address(*client, trust_proxy)
    try:
        packed = packed_address(address)
    except ValueError:  # a proxy's X-Forwarded-For that is no address: the proxy's own then
        packed = packed_address(client[0])
    return packed, first(params, b"ip") is not None
