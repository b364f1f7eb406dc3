"""CORS for the public API: any website may call it, without credentials (README.md, API)."""
from flask import request

MAX_AGE = 86400  # seconds a browser may cache a preflight answer


def init_app(app):
    app.after_request(add_cors_headers)


def add_cors_headers(response):
    if request.path.startswith("/api/"):
        # "*" makes browsers refuse to send cookies or auth, which is what we want.
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            # Authorization: the operator's bearer token, from an admin page on another origin.
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key, Authorization"
            response.headers["Access-Control-Max-Age"] = str(MAX_AGE)
    return response
