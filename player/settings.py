"""The player's settings: defaults, overridable by the environment, then by the app's config."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEFAULTS = {
    # hls.js as installed by `npm ci` (pinned in package.json and package-lock.json).
    "PLAYER_HLS_JS": os.path.join(ROOT, "node_modules", "hls.js", "dist", "hls.min.js"),
    # The tracker the pages talk to; empty means the page's own origin (the tracker mounting us).
    "PLAYER_TRACKER_URL": "",
    "PLAYER_SITE_NAME": "Slipstream",
}


def set_defaults(state):
    """Fill in what the app did not set, once per app the blueprint is registered on."""
    config = state.app.config
    for key, default in DEFAULTS.items():
        if key not in config:
            config[key] = os.environ.get(key, default)


def tracker_url(config, request):
    """The tracker base URL with no trailing slash, for server-side lookups."""
    return (config["PLAYER_TRACKER_URL"] or request.host_url).rstrip("/")
