"""Reading settings from the environment, one way for both roles.

Each parser takes the variable's name and its value (text from the environment, or an already typed
value from a test's `config`) and returns the value typed; a malformed value is a ValueError naming
the variable, so a typo in a deployment stops the server with its reason instead of running on a
guess. `role` and `threads` are the two settings `wsgi.py` and `gunicorn.conf.py` share; `limits` are
the deadlines and caps of both roles' workers (runtime/worker.py, runtime/bodies.py).
"""
import os
from collections import namedtuple

TRUE = {"1", "true", "yes", "on"}
FALSE = {"", "0", "false", "no", "off"}
ROLES = ("tracker", "edge")


def parse_bool(name, value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE | FALSE:
        return text in TRUE
    raise ValueError(f"{name} must be one of {sorted(TRUE | FALSE)}, not {value!r}")


def parse_int(name, value):
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None


def parse_count(name, value):
    """A non-negative integer: a limit, where 0 turns it off."""
    count = parse_int(name, value)
    if count < 0:
        raise ValueError(f"{name} must not be negative, not {value!r}")
    return count


def parse_float(name, value):
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None


def parse_list(name, value):
    """Comma-separated URLs; blanks dropped, no trailing slash."""
    return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]


def role(environ=os.environ):
    """SLIPSTREAM_ROLE: which app `gunicorn wsgi:app` serves."""
    value = environ.get("SLIPSTREAM_ROLE", "tracker")
    if value not in ROLES:
        raise ValueError(f"SLIPSTREAM_ROLE must be 'tracker' or 'edge', not {value!r}")
    return value


def threads(environ=os.environ):
    """GUNICORN_THREADS: threads per worker running Flask (everything but the hot path)."""
    return parse_int("GUNICORN_THREADS", environ.get("GUNICORN_THREADS", "8"))


# The reference is what operators know from nginx: client_header_timeout, client_body_timeout (here a
# minimum rate, so a body cannot be trickled in a byte per timeout), keepalive_timeout, limit_conn.
# Each can be turned off with 0.
Limits = namedtuple("Limits", "header_timeout body_min_rate body_rate_window keepalive_timeout "
                              "max_connections max_connections_per_address body_memory")
LIMITS = {  # name: (variable, parser, default)
    "header_timeout": ("SLIPSTREAM_HEADER_TIMEOUT", parse_float, "10"),
    "body_min_rate": ("SLIPSTREAM_BODY_MIN_RATE", parse_int, "1000"),
    "body_rate_window": ("SLIPSTREAM_BODY_RATE_WINDOW", parse_float, "20"),
    "keepalive_timeout": ("SLIPSTREAM_KEEPALIVE_TIMEOUT", parse_int, "15"),  # gunicorn takes whole seconds
    "max_connections": ("SLIPSTREAM_MAX_CONNECTIONS", parse_int, "4000"),
    "max_connections_per_address": ("SLIPSTREAM_MAX_CONNECTIONS_PER_ADDRESS", parse_int, "64"),
    "body_memory": ("SLIPSTREAM_BODY_MEMORY", parse_int, str(32 * 1024 * 1024)),  # bytes, per worker
}


def limits(environ=os.environ):
    """The workers' deadlines (seconds), minimum body rate (bytes/s), connection caps and memory for
    bodies (bytes; both per worker process); each a non-negative number, 0 for none."""
    values = {}
    for field, (name, parse, default) in LIMITS.items():
        value = parse(name, environ.get(name) or default)
        if value < 0:
            raise ValueError(f"{name} must not be negative, not {value!r}")
        values[field] = value
    return Limits(**values)
