"""The tracker's settings: documented defaults, each overridable by an environment variable.

`create_app` applies them in order defaults → environment → its `config` argument, then fills in
the values derived from others (the database inside the data dir, the node TTL from the interval).
"""
import os
import time

from runtime.settings import parse_bool, parse_count, parse_float, parse_int, parse_list

from .ledger.split import DEFAULT as DEFAULT_SPLIT, parse_split

def parse_share(name, value):
    """A share between 0 (no limit) and 1."""
    share = parse_float(name, value)
    if not 0 <= share <= 1:
        raise ValueError(f"{name} must be between 0 and 1, not {share!r}")
    return share


def parse_batch(name, value):
    """Changes asked of a peer's feed at once: 1 to the 500 a feed gives."""
    batch = parse_int(name, value)
    if not 1 <= batch <= 500:
        raise ValueError(f"{name} must be from 1 to 500, not {batch}")
    return batch


def parse_key_seed(name, value):
    """64 hex digits: an Ed25519 key's seed (what `python -m tracker key` prints)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{name} must be 64 hex digits (an Ed25519 key's seed)")
    return bytes.fromhex(text)


DEFAULTS = {
    "SLIPSTREAM_DATA_DIR": os.path.join(".", "var", "tracker"),
    "SLIPSTREAM_PUBLIC_URL": None,  # derived: http://127.0.0.1:$PORT
    "DATABASE_URL": None,  # derived: an SQLite file in the data dir
    "TRACKER_PEERS": [],
    # The tracker's identity, as the 32-byte Ed25519 seed in hex; None: the key file in the data dir
    # (identity.py). Hosts with an ephemeral disk or several processes set it so they stay one tracker.
    "TRACKER_KEY": None,
    "TRACKER_REPLICAS": 2,
    "TRACKER_ALLOW_PRIVATE": False,
    "TRACKER_ANNOUNCE_INTERVAL": 30,
    "TRACKER_NODE_TTL": None,  # derived: 3 × the announce interval
    "TRACKER_TICKET_TTL": 3600,
    # Seconds before an unfinished replicate task may be handed out again (nodes/replication.py).
    "TRACKER_REPLICATION_TIMEOUT": None,  # derived: 10 × the announce interval
    # Integer weights of a donation's split; the edges' part is shared by bytes served (ledger/split.py).
    "TRACKER_SPLIT": DEFAULT_SPLIT,
    "TRACKER_BT_INTERVAL": 1800,  # BitTorrent peers' announce interval (BEP 3), before jitter
    # Behind a reverse proxy: a client's address is the last X-Forwarded-For entry (runtime/clients.py).
    "TRACKER_TRUST_PROXY": False,
    # Bearer token for the operator's /api/v1/admin/... routes (admin.py); None: those routes are off.
    "TRACKER_ADMIN_TOKEN": None,
    "TRACKER_SWARM_FLUSH": 0.25,  # seconds a worker buffers swarm writes (bittorrent/swarm.py)
    "TRACKER_FEDERATION_HOPS": 3,  # how far a lookup of an unknown video travels (federation/lookup.py)
    "TRACKER_FEDERATION_TIMEOUT": 1.0,  # seconds per hop a lookup waits for peer trackers
    "TRACKER_FEDERATION_TTL": 60,  # seconds a found answer is cached (a miss: a tenth of it)
    "TRACKER_REPORT_WINDOW": 3600,  # seconds a player's failure report ranks an edge down (nodes/reports.py)
    "TRACKER_REPORT_LIMIT": 20,  # failure reports one address may send a minute
    # Per-address rate limits (ratelimits.py): a token bucket per client and worker, `_BURST` at
    # once and the rate a minute after that; 0 turns one off. Reserved bytes are counted across workers.
    "TRACKER_RATE_PLACEMENTS": 30,
    "TRACKER_RATE_PLACEMENTS_BURST": 60,
    # Bytes one address may hold in placements not yet registered: five of an edge's largest default uploads.
    "TRACKER_RATE_RESERVED": 20 * 10**9,
    # ... and at most this share of the live edges' free space (plus its own reservations): on a small
    # network 20 GB is everything (catalog/placement.py).
    "TRACKER_RATE_RESERVED_SHARE": 0.25,
    "TRACKER_RATE_DONATIONS": 30,
    "TRACKER_RATE_DONATIONS_BURST": 30,
    "TRACKER_RATE_LOOKUPS": 60,  # lookups of unknown videos that ask the peer trackers
    "TRACKER_RATE_LOOKUPS_BURST": 120,
    "TRACKER_RATE_FLAGS": 10,  # flags on videos (flags/views.py)
    "TRACKER_RATE_FLAGS_BURST": 20,
    "TRACKER_RATE_CHANNELS": 30,  # channel updates, edits, deletions and owners' listings
    "TRACKER_RATE_CHANNELS_BURST": 60,
    # Checks of what nodes claim (nodes/proofs.py, nodes/audits.py; README.md, trust model).
    "TRACKER_PROOF_INTERVAL": 3600,  # seconds before a node's URL is proven again
    "TRACKER_CHECK_TIMEOUT": 5.0,  # seconds one proof or one audited file may take
    "TRACKER_AUDIT_INTERVAL": 6 * 3600,  # mean seconds between audits of one copy (random times)
    "TRACKER_AUDIT_SAMPLES": 2,  # files of a package fetched and hashed per audit, besides the manifest
    "TRACKER_NEW_NODE_CAPACITY": 10**9,  # bytes a node may be given before it holds audited copies
    "TRACKER_PACKAGE_FACTOR": 3,  # a package may be this many times its upload's size (plus 16 MiB)
    "TRACKER_SERVED_WINDOW": 86400,  # seconds after its last audit a copy may still earn donations
    "TRACKER_SERVED_FACTOR": 4,  # bytes one node may be credited per donation: this × the package
    # Following the peers' catalog change feeds (gossip/follow.py): seconds between asks of a
    # peer that is caught up, and changes asked per batch (the feed gives at most 500).
    "TRACKER_SYNC_INTERVAL": 10.0,
    "TRACKER_SYNC_BATCH": 100,
    "TRACKER_STUN_PORT": 3478,  # UDP port of the STUN responder (webrtc/stun.py); 0: off
    "TRACKER_STUN_HOST": "0.0.0.0",  # the address it binds
    "TRACKER_RATE_CONNECT": 60,  # viewers' WebRTC connects to home edges (webrtc/connect.py)
    "TRACKER_RATE_CONNECT_BURST": 30,
    "SLIPSTREAM_ICE_ADDRESSES": [],  # local addresses ICE offers as host candidates; empty: aioice's choice
    "TRACKER_BACKGROUND": True,  # run the auditor thread (off in unit tests and in gunicorn's master)
    # Unix seconds for everything that expires (tracker/clock.py); tests pass a fake one, never the environment.
    "CLOCK": time.time,
    # Announces list every video a node holds; 4 MiB is room for ~90,000 ids.
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
}

PARSERS = {
    "SLIPSTREAM_DATA_DIR": lambda name, text: text,
    "SLIPSTREAM_PUBLIC_URL": lambda name, text: text,
    "DATABASE_URL": lambda name, text: text,
    "TRACKER_PEERS": parse_list,
    "TRACKER_KEY": parse_key_seed,
    "TRACKER_REPLICAS": parse_int,
    "TRACKER_ALLOW_PRIVATE": parse_bool,
    "TRACKER_ANNOUNCE_INTERVAL": parse_int,
    "TRACKER_NODE_TTL": parse_int,
    "TRACKER_TICKET_TTL": parse_int,
    "TRACKER_REPLICATION_TIMEOUT": parse_int,
    "TRACKER_REPORT_WINDOW": parse_int,
    "TRACKER_REPORT_LIMIT": parse_int,
    **{name: parse_count for name in ("TRACKER_RATE_PLACEMENTS", "TRACKER_RATE_PLACEMENTS_BURST", "TRACKER_RATE_RESERVED",
                                    "TRACKER_RATE_DONATIONS", "TRACKER_RATE_DONATIONS_BURST", "TRACKER_RATE_LOOKUPS",
                                    "TRACKER_RATE_LOOKUPS_BURST", "TRACKER_RATE_FLAGS", "TRACKER_RATE_FLAGS_BURST",
                                    "TRACKER_RATE_CHANNELS", "TRACKER_RATE_CHANNELS_BURST",
                                    "TRACKER_RATE_CONNECT", "TRACKER_RATE_CONNECT_BURST")},
    "TRACKER_PROOF_INTERVAL": parse_int,
    "TRACKER_CHECK_TIMEOUT": parse_float,
    "TRACKER_AUDIT_INTERVAL": parse_int,
    "TRACKER_AUDIT_SAMPLES": parse_int,
    "TRACKER_NEW_NODE_CAPACITY": parse_int,
    "TRACKER_PACKAGE_FACTOR": parse_int,
    "TRACKER_SERVED_WINDOW": parse_int,
    "TRACKER_SERVED_FACTOR": parse_int,
    "TRACKER_BACKGROUND": parse_bool,
    "TRACKER_STUN_PORT": parse_int,
    "TRACKER_STUN_HOST": lambda name, text: text,
    "SLIPSTREAM_ICE_ADDRESSES": parse_list,
    "TRACKER_SYNC_INTERVAL": parse_float,
    "TRACKER_SYNC_BATCH": parse_batch,
    "TRACKER_SPLIT": parse_split,
    "TRACKER_BT_INTERVAL": parse_int,
    "TRACKER_TRUST_PROXY": parse_bool,
    "TRACKER_ADMIN_TOKEN": lambda name, text: text,
    "TRACKER_SWARM_FLUSH": parse_float,
    "TRACKER_RATE_RESERVED_SHARE": parse_share,
    "TRACKER_FEDERATION_HOPS": parse_int,
    "TRACKER_FEDERATION_TIMEOUT": parse_float,
    "TRACKER_FEDERATION_TTL": parse_int,
}


def from_environment(environ=os.environ):
    """The settings the environment sets, parsed; a malformed value is a clear ValueError."""
    return {name: parse(name, environ[name]) for name, parse in PARSERS.items() if environ.get(name)}


def derive(config, environ=os.environ):
    """Fill in the settings whose defaults depend on others, once every override is applied."""
    config["SLIPSTREAM_DATA_DIR"] = os.path.abspath(config["SLIPSTREAM_DATA_DIR"])
    if not config["SLIPSTREAM_PUBLIC_URL"]:
        config["SLIPSTREAM_PUBLIC_URL"] = f"http://127.0.0.1:{environ.get('PORT', '8000')}"
    config["SLIPSTREAM_PUBLIC_URL"] = config["SLIPSTREAM_PUBLIC_URL"].rstrip("/")
    if not config["DATABASE_URL"]:
        # Four slashes: sqlite:/// plus an absolute path.
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(config["SLIPSTREAM_DATA_DIR"], "tracker.db")
    if not config["TRACKER_NODE_TTL"]:
        config["TRACKER_NODE_TTL"] = 3 * config["TRACKER_ANNOUNCE_INTERVAL"]
    if config["TRACKER_REPLICATION_TIMEOUT"] is None:
        # Time enough to pull a video before someone else is asked.
        config["TRACKER_REPLICATION_TIMEOUT"] = 10 * config["TRACKER_ANNOUNCE_INTERVAL"]
