"""The segmenter's exception tree: one root, one type per way an upload can fail."""


class SegmenterError(Exception):
    """Root of every error the segmenter raises."""


class ProbeError(SegmenterError):
    """The file could not be read as media at all (not a video, truncated, empty)."""

    status = 422


class RejectedInput(SegmenterError):
    """The file is readable but not acceptable; `status` is the HTTP status an edge answers with."""

    def __init__(self, reason, status=422):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class EncodeError(SegmenterError):
    """ffmpeg failed; carries the command and the tail of its stderr."""

    status = 422

    def __init__(self, message, cmd=(), stderr=""):
        super().__init__(message)
        self.cmd = list(cmd)
        self.stderr = stderr
