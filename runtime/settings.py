"""Reading settings from the environment, one way for both roles.

Each parser takes the variable's name and its value (text from the environment, or an already typed
value from a test's `config`) and returns the value typed; a malformed value is a ValueError naming
the variable, so a typo in a deployment stops the server with its reason instead of running on a
guess. `role` and `threads` are the two settings `wsgi.py` and `gunicorn.conf.py` share.
"""
import os

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
