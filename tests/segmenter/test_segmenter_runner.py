"""The runner against a real ffmpeg: errors carry the command and stderr, limits are enforced."""
import time

import pytest

from segmenter import EncodeError
from segmenter.command import GLOBAL_ARGS
from segmenter.config import ffmpeg_binary
from segmenter.runner import run


def lavfi(seconds, realtime=False):
    """ffmpeg generating `seconds` of a tiny test pattern into the null muxer."""
    return [ffmpeg_binary(), *(["-re"] if realtime else []), "-f", "lavfi", "-i",
            f"testsrc2=size=64x64:rate=10:duration={seconds}", "-f", "null", "-", *GLOBAL_ARGS]


def test_progress_reports_reach_the_end():
    reports = []
    run(lavfi(2), duration=2.0, on_progress=reports.append)
    assert reports[-1] == {"progress": 1.0, "speed": reports[-1]["speed"], "eta": 0.0}


def test_failure_raises_with_the_command_and_stderr_tail():
    argv = [ffmpeg_binary(), "-nostdin", "-f", "lavfi", "-i", "nosuchsource", "-f", "null", "-"]
    with pytest.raises(EncodeError) as failure:
        run(argv)
    assert failure.value.cmd == argv
    assert "nosuchsource" in failure.value.stderr and str(failure.value).startswith("ffmpeg failed")


def test_wall_clock_limit_kills_ffmpeg():
    started = time.monotonic()
    with pytest.raises(EncodeError, match="longer than its 1 s limit"):
        run(lavfi(30, realtime=True), duration=30.0, timeout=1.0)
    assert time.monotonic() - started < 10


def test_memory_limit_applies_to_ffmpeg():
    with pytest.raises(EncodeError):
        run(lavfi(1), memory=8 << 20)


def test_an_exception_from_the_callback_stops_ffmpeg():
    class Cancelled(Exception):
        pass

    def cancel(update):
        raise Cancelled()

    started = time.monotonic()
    with pytest.raises(Cancelled):
        run(lavfi(30, realtime=True), duration=30.0, on_progress=cancel)
    assert time.monotonic() - started < 10
