"""hls.js, served from the project's pinned npm install rather than a CDN."""
import os

from flask import Response, current_app, send_file


def register(bp):
    bp.add_url_rule("/player/vendor/hls.min.js", "hls_js", hls_js)


def hls_js():
    path = current_app.config["PLAYER_HLS_JS"]
    if not os.path.isfile(path):
        current_app.logger.error("hls.js not found at %s; run `npm ci` in the repository", path)
        # A JS comment as the body, so the browser console shows the reason next to the failure.
        return Response("/* hls.js is not installed on this server: run `npm ci` */\n", status=500,
                        mimetype="text/javascript")
    # Revalidated with ETag / Last-Modified, so an `npm ci` upgrade reaches browsers within the hour.
    return send_file(path, mimetype="text/javascript", max_age=3600, conditional=True)
