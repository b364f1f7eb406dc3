"""One JSON error shape for the whole API: `{"error": short_code, "message": human text}`.

Views raise `ApiError` (or Flask's `abort`), models and domain code raise the refusals of
refusals.py; the handlers below turn all of them, and every 4xx/5xx Flask raises itself (404, 405,
413, 500), into that shape for paths under /api/.
"""
import logging

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from . import metrics
from .db import UNAVAILABLE, database, drop_connection
from .refusals import Conflict, Forbidden, Gone, Invalid, NoSpace, NotFound, Refused, TooMany, Unproven

# The HTTP status of each kind of refusal (RFC 9110; 507 Insufficient Storage from RFC 4918).
STATUS = {Invalid: 400, Forbidden: 403, NotFound: 404, Conflict: 409, Gone: 410, Unproven: 422, TooMany: 429,
          NoSpace: 507}
RETRY_AFTER = 1  # seconds: a lost connection is replaced by the next request's

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal the client should see: an HTTP status, a stable short code and a reason."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status, code, message):
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


def init_app(app):
    app.register_error_handler(ApiError, lambda exc: error_response(exc.status, exc.code, exc.message))
    app.register_error_handler(Refused, refused)
    app.register_error_handler(HTTPException, http_error)
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, database_unavailable)


def refused(exc):
    response = error_response(status_of(exc), exc.code, exc.message)
    if isinstance(exc, TooMany):
        metrics.current().rate_limited.labels(exc.code).inc()
        response.headers["Retry-After"] = str(exc.retry_after)  # RFC 9110 section 10.2.3
    return response


def status_of(refusal):
    return next(status for kind, status in STATUS.items() if isinstance(refusal, kind))


def http_error(exc):
    """Flask's own errors: JSON under /api/, Flask's default page elsewhere (the website)."""
    if not request.path.startswith("/api/"):
        return exc
    code = exc.name.lower().replace(" ", "_")
    response = error_response(exc.code, code, exc.description)
    if exc.code == 405:
        response.headers["Allow"] = exc.get_response().headers.get("Allow", "")
    return response


def database_unavailable(exc):
    """The database connection failed mid-request: 503 and a retry, not a 500. The connection is
    dropped so that the next request opens a fresh one; the tracker recovers without a restart."""
    log.warning("database unavailable during %s %s: %s", request.method, request.path, exc)
    drop_connection(database)
    response = error_response(503, "database_unavailable",
                              f"the tracker's database is unavailable; retry in {RETRY_AFTER} s")
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response
