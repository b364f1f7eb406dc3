"""A full disk while writing, answered as `507 insufficient_storage` wherever it happens.

Form and tus uploads, replication pulls and transcodes all write to the data dir; when the disk
fills under them (ENOSPC, or EDQUOT under a quota) the transfer is refused as too big for this
edge, not blamed on the video. Each caller removes its partial files and releases its hold; this
module only says whether an error is a full disk and gives the one answer for it.
"""
import errno
import os
from contextlib import contextmanager

from .errors import ApiError

FULL = (errno.ENOSPC, errno.EDQUOT)
# ffmpeg is another process: its failed write reaches us only as these words in its stderr
# ("No space left on device", "Disk quota exceeded"); SQLite says SQLITE_FULL in its own words.
FULL_WORDS = (*(os.strerror(code) for code in FULL), "database or disk is full")


def insufficient_storage(message):
    return ApiError(507, "insufficient_storage", message)


def is_disk_full(exc):
    """True for an OSError of a full disk, an error caused by one (the segmenter wraps them), or
    an ffmpeg failure whose stderr says so."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in FULL:
            return True
        if any(words in f"{exc} {getattr(exc, 'stderr', '')}" for words in FULL_WORDS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def filled_while(doing):
    return insufficient_storage(f"the disk of this edge filled while {doing}; nothing of it was kept")


@contextmanager
def full_disk_is_507(doing):
    """Raise the 507 ApiError in place of a full disk's error inside the block."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, ApiError) or not is_disk_full(exc):
            raise
        raise filled_while(doing) from exc
