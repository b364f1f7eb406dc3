"""Browser libraries, served from the project's pinned npm install (package-lock.json) rather than a CDN."""
import os

from flask import Response, abort, current_app, send_file

from .settings import ROOT

# URL name → the file in node_modules; hls.js's path is a setting (PLAYER_HLS_JS), the others fixed.
VENDORED = {
    "tus.min.js": os.path.join("tus-js-client", "dist", "tus.min.js"),
    # An ES module: channel-key.js imports it only when the browser's WebCrypto lacks Ed25519.
    "noble-ed25519.js": os.path.join("@noble", "ed25519", "index.js"),
}


PREFIX = "/player/vendor/"
HLS_JS = PREFIX + "hls.min.js"


def register(bp):
    bp.add_url_rule(HLS_JS, "hls_js", hls_js)
    bp.add_url_rule(PREFIX + "<name>", "vendored", vendored)


def paths():
    """The URL paths of every library served here."""
    return [HLS_JS] + [PREFIX + name for name in VENDORED]


def hls_js():
    return serve(current_app.config["PLAYER_HLS_JS"], "hls.js")


def vendored(name):
    if name not in VENDORED:
        abort(404)
    return serve(os.path.join(ROOT, "node_modules", VENDORED[name]), name)


def serve(path, label):
    if not os.path.isfile(path):
        current_app.logger.error("%s not found at %s; run `npm ci` in the repository", label, path)
        # A JS comment as the body, so the browser console shows the reason next to the failure.
        return Response(f"/* {label} is not installed on this server: run `npm ci` */\n", status=500,
                        mimetype="text/javascript")
    # Revalidated with ETag / Last-Modified, so an `npm ci` upgrade reaches browsers within the hour.
    return send_file(path, mimetype="text/javascript", max_age=3600, conditional=True)
