"""The protocol's exception tree: one root, one type per rule a document or a file can break."""


class ProtocolError(Exception):
    """Root of every error the protocol package raises."""


class ManifestError(ProtocolError):
    """A manifest or a file does not match what its content hash promises."""


class BadSignature(ProtocolError):
    """A signed document is malformed, forged, expired or signed by someone else."""
