"""Reading typed fields out of JSON objects, refusing bad ones with a 400 that names the field; and
the JSON Schema of what each reader accepts, so the OpenAPI document (openapi.py) says exactly that."""
import math

from flask import request

from protocol.ids import is_public_key

from .errors import ApiError

MAX_INT = 2 ** 53  # the largest integer every JSON client represents exactly
# What str.strip() drops (str.isspace()). Listed one by one for the document's patterns: JSON
# Schema's `\s` (ECMA 262) is another set (it lacks U+001C-U+001F and U+0085, and has U+FEFF).
SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) \
    + "\u2028\u2029\u202f\u205f\u3000"
VIDEO_ID = {"type": "string", "pattern": "^[0-9a-f]{40}$", "description": "40 lowercase hex characters"}
NODE_ID = {"type": "string", "pattern": "^[0-9a-f]{64}$",
           "description": "an Ed25519 public key as 64 lowercase hex characters"}


def json_body():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object (Content-Type: application/json)")
    return body


def invalid(name, message):
    return ApiError(400, f"invalid_{name}", f"{name} {message}")


def text(obj, name, min_len=0, max_len=200, default=None):
    """A string of at most `max_len` characters, stripped; with `min_len` 1, not blank."""
    value = obj.get(name)
    value = default if value is None else value
    if not isinstance(value, str) or len(value) > max_len:
        raise invalid(name, f"must be a string of {min_len} to {max_len} characters")
    if "\x00" in value:  # PostgreSQL's text cannot hold it, and no title needs it
        raise invalid(name, "must not contain the NUL character")
    value = value.strip()
    if len(value) < min_len:
        raise invalid(name, f"must be a string of {min_len} to {max_len} characters, not blank")
    return value


def text_schema(min_len=0, max_len=200, nullable=False):
    """What text() accepts (`nullable` when it has a default)."""
    assert min_len in (0, 1), "a pattern for longer minimums is not written yet"
    schema = {"type": ["string", "null"] if nullable else "string", "maxLength": max_len}
    # No NUL anywhere; with `min_len`, at least one character that is not a space.
    schema["pattern"] = f"^[^\\x00]*[^{SPACES}\\x00][^\\x00]*$" if min_len else "^[^\\x00]*$"
    return schema


def integer(obj, name, minimum=0, maximum=MAX_INT, nullable=False):
    value = obj.get(name)
    if value is None and nullable:
        return None
    value = as_integer(value)
    if value is None or not minimum <= value <= maximum:
        raise invalid(name, f"must be an integer from {minimum} to {maximum}")
    return value


def as_integer(value):
    """The int a JSON number stands for, or None. JSON has one kind of number, so 5.0 is 5 (as JSON
    Schema's "integer" says); bool is an int in Python but not a number in JSON."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def integer_schema(minimum=0, maximum=MAX_INT, nullable=False):
    """What integer() accepts."""
    return {"type": ["integer", "null"] if nullable else "integer", "minimum": minimum, "maximum": maximum}


def number(obj, name, minimum=0.0):
    value = obj.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
            or value < minimum:
        raise invalid(name, f"must be a number of at least {minimum}")
    return value


def number_schema(minimum=0.0):
    """What number() accepts (JSON has no NaN or infinity)."""
    return {"type": "number", "minimum": minimum}


def choice(obj, name, choices, default=None):
    """One of `choices`; absent or null: `default`, else the first."""
    value = obj.get(name)
    if value is None:
        return choices[0] if default is None else default
    if value not in choices:
        raise invalid(name, f"must be one of {', '.join(choices)}")
    return value


def node_id(obj, name="node"):
    value = obj.get(name)
    if not is_public_key(value):
        raise invalid(name, "must be an Ed25519 public key as 64 lowercase hex characters")
    return value
