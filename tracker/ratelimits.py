"""How often one client address may ask the tracker for something costly (README.md, rate limits).

Placements, donations, flags, the lookups that ask peer trackers and channels' signed requests each
have a token bucket per client address (runtime/ratelimit.py), kept per worker process; past it a request is a 429 with
Retry-After. Two limits are counted in the database instead, across workers, since their rows exist
anyway: the bytes one address holds reserved in unfinished placements (catalog/models.py) and its
failure reports (nodes/reports.py). Edge announces, BitTorrent and the sources of a known video are
never limited: honest edges and viewers must never be refused.
"""
from flask import current_app, request

from runtime.clients import client_address, client_key
from runtime.ratelimit import TokenBuckets

from .refusals import TooMany

LIMITS = {  # name: (setting, what is counted)
    "placements": ("TRACKER_RATE_PLACEMENTS", "placements"),
    "donations": ("TRACKER_RATE_DONATIONS", "donations"),
    "lookups": ("TRACKER_RATE_LOOKUPS", "lookups of videos this tracker does not know"),
    "flags": ("TRACKER_RATE_FLAGS", "flags"),
    # Keys cost nothing to make, so signatures alone do not bound how many channels one address creates.
    "channels": ("TRACKER_RATE_CHANNELS", "channel requests (updates, edits, deletions)"),
    "connects": ("TRACKER_RATE_CONNECT", "WebRTC connects to edges"),
}


def client():
    """This request's client address, as per-address limits count it (IPv6: its /64); behind
    TRACKER_TRUST_PROXY the address the proxy appended to X-Forwarded-For."""
    return client_key(client_address(request.remote_addr, lambda: request.headers.get("X-Forwarded-For", ""),
                                     current_app.config["TRACKER_TRUST_PROXY"]))


def take(name):
    """Count one `name` request of this client, or refuse it (429) when its bucket is empty."""
    wait = current_app.extensions["tracker.rates"][name].take(client())
    if wait:
        setting, what = LIMITS[name]
        config = current_app.config
        raise TooMany(f"too_many_{name}", f"too many {what} from your address: at most {config[setting + '_BURST']} "
                      f"at once, then {config[setting]} a minute ({setting}); retry in {wait} s", wait)


def init_app(app):
    config = app.config
    app.extensions["tracker.rates"] = {
        name: TokenBuckets(config[setting], config[setting + "_BURST"], config["CLOCK"])
        for name, (setting, _) in LIMITS.items()}
