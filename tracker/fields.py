"""Reading typed fields out of JSON objects, refusing bad ones with a 400 that names the field."""
import math

from flask import request

from protocol.ids import is_public_key

from .errors import ApiError

MAX_INT = 2 ** 53  # the largest integer every JSON client represents exactly


def json_body():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object (Content-Type: application/json)")
    return body


def invalid(name, message):
    return ApiError(400, f"invalid_{name}", f"{name} {message}")


def text(obj, name, min_len=0, max_len=200, default=None):
    value = obj.get(name)
    value = default if value is None else value
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    value = value.strip()
    if not min_len <= len(value) <= max_len:
        raise invalid(name, f"must be {min_len} to {max_len} characters")
    return value


def integer(obj, name, minimum=0, maximum=MAX_INT, nullable=False):
    value = obj.get(name)
    if value is None and nullable:
        return None
    # bool is an int in Python but not in JSON's sense of a size.
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise invalid(name, f"must be an integer from {minimum} to {maximum}")
    return value


def number(obj, name, minimum=0.0):
    value = obj.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
            or value < minimum:
        raise invalid(name, f"must be a number of at least {minimum}")
    return value


def node_id(obj, name="node"):
    value = obj.get(name)
    if not is_public_key(value):
        raise invalid(name, "must be an Ed25519 public key as 64 lowercase hex characters")
    return value
