"""Why the tracker's rules say no, without a word of HTTP: models and domain code raise these, and
errors.py maps each kind to its status, so the same rule reads the same from a view, a CLI or a test.

Every refusal carries a stable short `code` (the API's `error` field) and a human `message`.
"""


class Refused(Exception):
    """Root of every refusal a tracker rule makes."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


class Invalid(Refused):
    """The request itself is malformed or breaks a rule of the protocol (a replay, a bad field)."""


class Forbidden(Refused):
    """The signer may not do this (an unknown node, another node's upload)."""


class NotFound(Refused):
    """The thing named does not exist here."""


class Conflict(Refused):
    """It clashes with what was already recorded (an upload used twice, a reused idempotency key)."""


class Unproven(Refused):
    """A claim the tracker checked and found false or could not check (a URL, a copy, a manifest)."""


class Gone(Refused):
    """It was here and was removed for good (a deleted or taken-down video)."""


class NoSpace(Refused):
    """No live edge has room for it."""


class TooMany(Refused):
    """The sender went past a rate limit; `retry_after` is the whole seconds until it may try again."""

    def __init__(self, code, message, retry_after):
        super().__init__(code, message)
        self.retry_after = retry_after
