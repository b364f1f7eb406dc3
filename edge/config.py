"""The edge's settings: documented defaults, each overridable by an environment variable.

Config keys are the environment variable names, so `create_app({"EDGE_CAPACITY": "1GB"})` in a
test reads like the operator's `EDGE_CAPACITY=1GB`.
"""
import os
import re
import time

from protocol.ids import is_public_key
from runtime.settings import parse_bool, parse_count, parse_float, parse_int, parse_list

# Decimal units as disk vendors count them; the binary ones for operators who think in GiB.
UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
         "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")

DEFAULTS = {
    "SLIPSTREAM_DATA_DIR": "./var/edge",
    "SLIPSTREAM_PUBLIC_URL": None,  # http://127.0.0.1:$PORT, or :8001 without $PORT
    # The trackers it announces to, comma-separated; a list after load().
    "EDGE_TRACKER_URL": "http://127.0.0.1:8000",
    "EDGE_CAPACITY": "10GB",
    # Disk space left free for everything else on the machine: the edge offers at most the
    # filesystem's free space (statvfs of the data dir) minus this.
    "EDGE_DISK_MARGIN": "1GB",
    # The trackers' public keys (64 hex), comma-separated in EDGE_TRACKER_URL's order; a missing or
    # empty entry pins the key that tracker's first announce answer gives. A list after load().
    "EDGE_TRACKER_KEY": None,
    # Let replication pull from loopback/private addresses (a local network, tests).
    "EDGE_ALLOW_PRIVATE": False,
    "EDGE_ADMIN_TOKEN": None,
    "EDGE_MAX_UPLOAD": "4GB",
    "EDGE_ANNOUNCE_INTERVAL": None,  # seconds; None follows the tracker's `interval`
    "EDGE_BACKGROUND": True,  # announcer + job threads in one process (off for unit tests)
    "EDGE_JOB_THREADS": 1,  # 0 when a separate `python -m edge worker` runs the jobs
    # Behind nginx: answer video files with `X-Accel-Redirect: <prefix>/<id>/<name>` and no body.
    "EDGE_ACCEL_REDIRECT": None,
    # Bytes of small published files (playlists, manifests, posters, thumbnails) each worker process
    # keeps in memory to answer them with one write (edge/memory.py); 0 turns it off.
    "EDGE_MEMORY_CACHE": "64MB",
    # tus creations one client address may make (tus.py): a token bucket per address and worker,
    # this many at once, then the rate a minute; 0 turns it off. The address is the socket's.
    "EDGE_RATE_UPLOADS": 30,
    "EDGE_RATE_UPLOADS_BURST": 60,
    # Ask the home router (UPnP-IGD) to map the port of a SLIPSTREAM_PUBLIC_URL on a private address,
    # and announce the mapped URL (edge/portmap.py).
    "EDGE_UPNP": True,
    # Viewers' WebRTC peer connections held at once (edge/webrtc/); 0: no signalling socket, no WebRTC.
    "EDGE_WEBRTC_PEERS": 32,
    # Local addresses ICE offers as host candidates, comma-separated; empty: every interface but loopback.
    "SLIPSTREAM_ICE_ADDRESSES": "",
}
SIZES = ("EDGE_CAPACITY", "EDGE_MAX_UPLOAD", "EDGE_DISK_MARGIN", "EDGE_MEMORY_CACHE")
FLAGS = ("EDGE_BACKGROUND", "EDGE_ALLOW_PRIVATE", "EDGE_UPNP")
NUMBERS = {"EDGE_ANNOUNCE_INTERVAL": parse_float, "EDGE_JOB_THREADS": parse_int,
           "EDGE_RATE_UPLOADS": parse_count, "EDGE_RATE_UPLOADS_BURST": parse_count, "EDGE_WEBRTC_PEERS": parse_count}


def parse_size(name, value):
    """`400MB`, `20GB`, `1.5GiB` or plain bytes (str or int) -> bytes; like runtime/settings.py's
    parsers, which hold what both roles parse (only the edge has sizes)."""
    if isinstance(value, int):
        return value
    match = SIZE.fullmatch(str(value))
    unit = match and match.group(2).upper()
    if not match or unit not in UNITS:
        raise ValueError(f"{name} must be bytes or e.g. 400MB, 20GB, not {value!r}")
    return int(float(match.group(1)) * UNITS[unit])


def parse_key(name, value):
    """An Ed25519 public key in hex (either case) -> its 64 lowercase hex characters."""
    key = str(value).strip().lower()
    if not is_public_key(key):
        raise ValueError(f"{name} must be a public key of 64 hex characters, not {value!r}")
    return key


def load(config=None, environ=os.environ):
    """Defaults, then the environment, then `config`; sizes, flags and numbers parsed (a malformed
    value is a ValueError naming its variable)."""
    settings = dict(DEFAULTS)
    settings.update({name: environ[name] for name in DEFAULTS if environ.get(name)})
    settings.update(config or {})
    # Unix seconds for everything that expires (tus uploads, tickets, the sweep): tests pass a fake
    # clock here and move it instead of sleeping; no operator has a reason to, so no variable sets it.
    settings.setdefault("CLOCK", time.time)
    for name in SIZES:
        settings[name] = parse_size(name, settings[name])
    for name in FLAGS:
        settings[name] = parse_bool(name, settings[name])
    for name, parse in NUMBERS.items():
        if settings[name] is not None:
            settings[name] = parse(name, settings[name])
    if not settings["SLIPSTREAM_PUBLIC_URL"]:
        settings["SLIPSTREAM_PUBLIC_URL"] = f"http://127.0.0.1:{environ.get('PORT', '8001')}"
    settings["EDGE_TRACKER_URL"], settings["EDGE_TRACKER_KEY"] = parse_trackers(
        settings["EDGE_TRACKER_URL"], settings["EDGE_TRACKER_KEY"])
    if settings["EDGE_ACCEL_REDIRECT"]:
        settings["EDGE_ACCEL_REDIRECT"] = "/" + settings["EDGE_ACCEL_REDIRECT"].strip("/")
    settings["SLIPSTREAM_PUBLIC_URL"] = settings["SLIPSTREAM_PUBLIC_URL"].rstrip("/")
    addresses = settings["SLIPSTREAM_ICE_ADDRESSES"]
    settings["SLIPSTREAM_ICE_ADDRESSES"] = addresses if isinstance(addresses, list) else \
        parse_list("SLIPSTREAM_ICE_ADDRESSES", addresses or "")
    return settings


def parse_trackers(urls, keys):
    """EDGE_TRACKER_URL and EDGE_TRACKER_KEY (strings, or lists already) -> (URLs, keys): one key or
    None per URL. Keys pair with URLs by position, so an entry may be empty, never left out inside."""
    urls = list(dict.fromkeys(urls if isinstance(urls, list) else parse_list("EDGE_TRACKER_URL", urls or "")))
    if not urls:
        raise ValueError("EDGE_TRACKER_URL must name at least one tracker URL")
    if isinstance(keys, list):
        entries = keys
    else:
        entries = [entry.strip() for entry in (keys or "").split(",")]
    if len(entries) > len(urls):
        raise ValueError(f"EDGE_TRACKER_KEY has {len(entries)} entries for {len(urls)} EDGE_TRACKER_URL entries")
    keys = [parse_key("EDGE_TRACKER_KEY", entry) if entry else None for entry in entries]
    return urls, keys + [None] * (len(urls) - len(keys))
