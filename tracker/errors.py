"""One JSON error shape for the whole API: `{"error": short_code, "message": human text}`.

Views raise `ApiError` (or Flask's `abort`), models and domain code raise the refusals of
refusals.py; the handlers below turn all of them, and every 4xx/5xx Flask raises itself (404, 405,
413, 500), into that shape for paths under /api/.
"""
from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from . import metrics
from .refusals import Conflict, Forbidden, Invalid, NoSpace, NotFound, Refused, TooMany, Unproven

# The HTTP status of each kind of refusal (RFC 9110; 507 Insufficient Storage from RFC 4918).
STATUS = {Invalid: 400, Forbidden: 403, NotFound: 404, Conflict: 409, Unproven: 422, TooMany: 429, NoSpace: 507}


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
