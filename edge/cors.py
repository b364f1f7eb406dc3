"""Headers on every answer: CORS for any origin (no credentials), and no MIME sniffing.

Websites on other origins upload here and players fetch segments with `Range`, so preflights are
answered for every route with the methods Flask's automatic OPTIONS lists in `Allow`.
"""
from flask import request

# tus clients (tus-js-client in the upload page) send and read these from another origin.
ALLOW_HEADERS = ("Range, Content-Type, Authorization, Tus-Resumable, Upload-Length, Upload-Metadata, "
                 "Upload-Offset, Upload-Defer-Length, Upload-Concat, X-HTTP-Method-Override, X-Requested-With")
EXPOSE_HEADERS = ("Content-Length, Content-Range, Accept-Ranges, ETag, Location, Upload-Offset, Upload-Length, "
                  "Upload-Metadata, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, "
                  "Slipstream-Job, Slipstream-Status-Url")
# On every answer, Flask's and the hot path's (edge/fastpath.py).
EVERY_ANSWER = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
                ("X-Content-Type-Options", "nosniff")]


def add_headers(response):
    headers = response.headers
    headers.update(EVERY_ANSWER)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        headers["Access-Control-Allow-Methods"] = headers.get("Allow", "GET, HEAD, OPTIONS")
        headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        headers["Access-Control-Max-Age"] = "86400"
    return response


def init_app(app):
    app.after_request(add_headers)
