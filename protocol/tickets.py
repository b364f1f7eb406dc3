"""Upload tickets: a document the tracker signs, packed into one URL-safe string so it can travel
as a form field or a tus metadata value."""
import base64
import json
import time

from .errors import BadSignature
from .ids import canonical_json
from .signing import is_finite_number, verify


def encode_ticket(document):
    return base64.urlsafe_b64encode(canonical_json(document)).decode().rstrip("=")


def decode_ticket(ticket, public_hex, now=None):
    """Unpack and verify a ticket; refuse it once its `expires` time has passed."""
    try:
        raw = base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4))
        document = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise BadSignature("ticket is not readable") from exc
    if not isinstance(document, dict):
        raise BadSignature("ticket is not readable")
    payload = verify(document, public_hex)
    expires = payload.get("expires")
    # Valid strictly before `expires`, as the tracker frees the reservation at that second.
    if not is_finite_number(expires) or expires <= (time.time() if now is None else now):
        raise BadSignature("ticket has expired")
    return payload
