"""The tracker's own Ed25519 key: it signs upload tickets, and its hex public key is the tracker id.

The key is TRACKER_KEY's seed when set, so that every process of one tracker, on any host and after
any restart, signs as the same tracker (a host with an ephemeral disk, several web processes on one
database); otherwise the key file in the data dir, made on first start.
"""
import os

import nacl.signing

from flask import current_app

from protocol.signing import load_or_create_key, node_id

from .db import startup_lock


def init_app(app):
    if app.config["TRACKER_KEY"]:
        key = nacl.signing.SigningKey(app.config["TRACKER_KEY"])
        app.extensions["tracker.key"] = key
        app.config["TRACKER_ID"] = node_id(key)
        return
    # Without the lock, two workers starting on a fresh data dir would each create a different key.
    with startup_lock(app.config["SLIPSTREAM_DATA_DIR"]):
        key = load_or_create_key(os.path.join(app.config["SLIPSTREAM_DATA_DIR"], "tracker.key"))
    app.extensions["tracker.key"] = key
    app.config["TRACKER_ID"] = node_id(key)


def signing_key():
    return current_app.extensions["tracker.key"]


def seed_hex(data_dir=None):
    """The seed of `data_dir`'s key file in hex, or of a new key if there is no such file."""
    path = data_dir and os.path.join(data_dir, "tracker.key")
    key = load_or_create_key(path) if path and os.path.exists(path) else nacl.signing.SigningKey.generate()
    return bytes(key).hex()
