"""The tracker's own Ed25519 key: it signs upload tickets, and its hex public key is the tracker id."""
import os

from flask import current_app

from protocol.signing import load_or_create_key, node_id

from .db import startup_lock


def init_app(app):
    # Without the lock, two workers starting on a fresh data dir would each create a different key.
    with startup_lock(app.config["SLIPSTREAM_DATA_DIR"]):
        key = load_or_create_key(os.path.join(app.config["SLIPSTREAM_DATA_DIR"], "tracker.key"))
    app.extensions["tracker.key"] = key
    app.config["TRACKER_ID"] = node_id(key)


def signing_key():
    return current_app.extensions["tracker.key"]
