"""Content ids and canonical JSON (the trust model: whoever holds an id can check every byte).

A video's id is the first 20 bytes of the SHA-256 of its canonical manifest JSON, written as 40
lowercase hex characters: the size of a BitTorrent info-hash, so the same id works in /announce and
/scrape. A node's or a tracker's id is its Ed25519 public key, 64 hex characters (`signing`).
"""
import hashlib
import json
import re

VIDEO_ID = re.compile(r"[0-9a-f]{40}")
PUBLIC_KEY = re.compile(r"[0-9a-f]{64}")


def canonical_json(obj):
    """UTF-8, keys sorted, no insignificant whitespace: one byte string per document."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_id(data):
    """The id of canonical manifest bytes."""
    return hashlib.sha256(data).digest()[:20].hex()


def video_id(manifest):
    return content_id(canonical_json(manifest))


def is_video_id(value):
    # fullmatch: `$` would also accept a trailing newline.
    return isinstance(value, str) and VIDEO_ID.fullmatch(value) is not None


def is_public_key(value):
    return isinstance(value, str) and PUBLIC_KEY.fullmatch(value) is not None
