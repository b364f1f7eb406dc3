"""A node's self-declared URL is untrusted: browsers will fetch from it on the tracker's word."""
import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from ..errors import ApiError

HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")
# WHATWG URL parsing reads a host whose last label is numeric as IPv4 (0x7f.1 is 127.0.0.1).
NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def check_node_url(url, allow_private=False):
    """The URL without a trailing slash, or a 422 naming what is wrong with it."""
    if not isinstance(url, str) or not url or len(url) > 2048 or not url.isprintable() or " " in url:
        raise refused("must be a printable http(s) URL of at most 2048 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise refused("scheme must be http or https")
    if "@" in parts.netloc:
        raise refused("must not carry credentials")
    if parts.query or parts.fragment:
        raise refused("must not have a query or fragment")
    try:
        parts.port
    except ValueError:
        raise refused("has an invalid port") from None
    host = parts.hostname or ""
    problem = host_problem(host, allow_private)
    if problem:
        raise refused(f"host {host!r} {problem}")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def host_problem(host, allow_private):
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return name_problem(host, allow_private)
    address = getattr(address, "ipv4_mapped", None) or address
    if address.is_unspecified or address.is_multicast:
        return "is not a unicast address"
    if not address.is_global and not allow_private:
        return "is loopback, private or reserved (set TRACKER_ALLOW_PRIVATE on a local network)"
    return None


def name_problem(name, allow_private):
    if not HOST_NAME.fullmatch(name):
        return "is not a valid host name"
    if NUMERIC_LABEL.fullmatch(name.rstrip(".").rsplit(".", 1)[-1]):
        return "is not a canonical IP address"
    bare = name.rstrip(".")
    if not allow_private and ("." not in bare or bare == "localhost" or bare.endswith(LOCAL_SUFFIXES)):
        return "is a local name (set TRACKER_ALLOW_PRIVATE on a local network)"
    return None


def refused(message):
    return ApiError(422, "invalid_url", f"url {message}")
