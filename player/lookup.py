"""Server-side reads of the tracker's public JSON API (oEmbed, the channel feed), over HTTP like any
third-party website, through the guarded client (protocol/http.py): to loopback or private addresses
only when the mounting tracker has TRACKER_ALLOW_PRIVATE."""
import json

from flask import current_app

from protocol.http import GuardedClient, UnsafeRequest

from .settings import tracker_url

TIMEOUT = 3
LIMIT = 1024 * 1024  # a video's metadata is a few KB; a channel's list some hundreds


def tracker_json(path):
    """The tracker's answer to GET `path`: (status, JSON object), or (None, None) when it cannot say
    (no tracker configured, unreachable, refused by the guard, not a JSON object)."""
    base = tracker_url(current_app.config)
    if base is None:
        return None, None
    try:
        answer = client().request("GET", base + path, deadline=TIMEOUT, max_bytes=LIMIT)
        body = json.loads(answer.body)
    except (UnsafeRequest, ValueError) as exc:
        current_app.logger.warning("tracker lookup of %s failed: %s", path, exc)
        return None, None
    return (answer.status, body) if isinstance(body, dict) else (None, None)


def client():
    """The app's guarded client for lookups; private addresses only if the tracker allows them."""
    allow_private = bool(current_app.config.get("TRACKER_ALLOW_PRIVATE", False))
    clients = current_app.extensions.setdefault("player.lookup", {})
    if allow_private not in clients:
        clients[allow_private] = GuardedClient(allow_private=allow_private, deadline=TIMEOUT, max_bytes=LIMIT)
    return clients[allow_private]
