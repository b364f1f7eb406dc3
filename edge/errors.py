"""One JSON shape for every error the edge answers: `{"error": code, "message": text}`."""
import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException, NotFound

log = logging.getLogger(__name__)

# Every kind of "not here" (unknown video, unlisted file, path tricks, unknown route) gets these
# exact words, so a probe learns nothing from the answer.
NOT_FOUND_MESSAGE = "nothing here"


class ApiError(Exception):
    """A refusal with its HTTP status, a short machine-readable code and a sentence for people."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_response(status, code, message, headers=None):
    response = jsonify(error=code, message=message)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def not_found():
    return NotFound(NOT_FOUND_MESSAGE)


def _api_error(exc):
    return error_response(exc.status, exc.code, exc.message, exc.headers)


def _http_error(exc):
    code = exc.name.lower().replace(" ", "_").replace("'", "")
    message = NOT_FOUND_MESSAGE if exc.code == 404 else exc.description
    # Keep what the exception says about the answer (Allow for 405, Content-Range for 416).
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error_response(exc.code, code, message, headers)


def _unexpected(exc):
    log.exception("unhandled error")
    return error_response(500, "internal_error", "the edge failed to answer; see its log")


def init_app(app):
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
