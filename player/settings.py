"""The player's settings: defaults, overridable by the environment, then by the app's config."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEFAULTS = {
    # hls.js as installed by `npm ci` (pinned in package.json and package-lock.json).
    "PLAYER_HLS_JS": os.path.join(ROOT, "node_modules", "hls.js", "dist", "hls.min.js"),
    # The tracker the pages talk to; empty means the page's own origin (the tracker mounting us), and
    # for /oembed's server-side lookup that tracker's SLIPSTREAM_PUBLIC_URL (site_url, tracker_url).
    "PLAYER_TRACKER_URL": "",
    "PLAYER_SITE_NAME": "Slipstream",
}


def set_defaults(state):
    """Fill in what the app did not set, once per app the blueprint is registered on."""
    config = state.app.config
    for key, default in DEFAULTS.items():
        if key not in config:
            config[key] = os.environ.get(key, default)


def site_url(config):
    """This site's own URL, from configuration and never from a request's Host header: the mounting
    app's SLIPSTREAM_PUBLIC_URL (the tracker's), else PLAYER_TRACKER_URL; None when neither is set."""
    return (config.get("SLIPSTREAM_PUBLIC_URL") or config["PLAYER_TRACKER_URL"] or "").rstrip("/") or None


def tracker_url(config):
    """The tracker base URL for server-side lookups: PLAYER_TRACKER_URL, else the mounting tracker's
    own SLIPSTREAM_PUBLIC_URL; None when neither is set."""
    return (config["PLAYER_TRACKER_URL"] or config.get("SLIPSTREAM_PUBLIC_URL") or "").rstrip("/") or None
