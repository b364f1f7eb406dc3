"""Run one ffmpeg argument list: no shell, a time and memory limit, progress from `-progress`."""
import collections
import errno
import os
import resource
import subprocess
import threading
import time

from .errors import EncodeError

STDERR_LINES = 40
# ffmpeg's HLS muxer ignores a failed write: on a full disk it exits 0 with truncated files and
# says nothing. A disk left with less than this after a run is taken to have stopped it.
FULL_BELOW = 1 << 20


def memory_limit():
    """Bytes of heap (RLIMIT_DATA) one ffmpeg may map: a 1080p four-rendition ladder peaks near
    1.1 GiB on 2 cores; x264 threads grow with the core count. RLIMIT_AS would count the
    untouched address space glibc reserves per thread and fail on big machines."""
    return (2 << 30) + (256 << 20) * (os.cpu_count() or 1)


def time_limit(duration):
    """Wall-clock seconds allowed for a source of `duration` seconds: 2 minutes plus 10x real time."""
    return 120.0 + 10.0 * max(duration, 0.0)


def run(argv, duration=None, on_progress=None, timeout=None, cwd=None, memory=None):
    """Run `argv` (ffmpeg with `-progress pipe:1`) to completion or raise EncodeError.

    `on_progress(dict)` gets {"progress": 0..1, "speed": float|None, "eta": s|None} on the calling
    thread; if it raises, ffmpeg is killed and the exception propagates.
    """
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace")
    except OSError as exc:
        raise EncodeError(f"cannot start ffmpeg: {exc}", argv) from exc
    memory = memory or memory_limit()
    try:
        # prlimit after the start, not preexec_fn: preexec_fn is unsafe in threaded servers.
        resource.prlimit(proc.pid, resource.RLIMIT_DATA, (memory, memory))
    except ProcessLookupError:
        pass  # already gone: its exit status tells the rest
    tail = collections.deque(maxlen=STDERR_LINES)
    reader = threading.Thread(target=lambda: tail.extend(proc.stderr), daemon=True)
    reader.start()
    timed_out = threading.Event()
    limit = timeout or time_limit(duration or 0)
    timer = threading.Timer(limit, lambda: (timed_out.set(), proc.kill()))
    timer.daemon = True
    timer.start()
    try:
        for report in parse_progress(proc.stdout, duration):
            if on_progress is not None:
                on_progress(report)
        returncode = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        proc.stdout.close()
        proc.stderr.close()
    stderr = "".join(tail)
    if timed_out.is_set():
        raise EncodeError(f"ffmpeg took longer than its {limit:.0f} s limit", argv, stderr)
    left = room_left(cwd) if cwd is not None else FULL_BELOW
    if left < FULL_BELOW:
        raise EncodeError(f"ffmpeg failed: {os.strerror(errno.ENOSPC)} ({left} bytes left where it writes)",
                          argv, stderr)
    if returncode != 0:
        if "Cannot allocate memory" in stderr:
            raise EncodeError(f"ffmpeg needed more than its {memory >> 20} MiB memory limit",
                              argv, stderr)
        last = stderr.strip().splitlines()[-1:] or [f"exit status {returncode}"]
        raise EncodeError(f"ffmpeg failed: {last[0]}", argv, stderr)


def room_left(path):
    """Bytes an unprivileged process may still write on the filesystem of `path`."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def parse_progress(lines, duration=None):
    """Turn ffmpeg's `-progress` key=value blocks into progress reports, one per block."""
    block, furthest = {}, 0.0
    started = time.monotonic()
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        block[key] = value
        if key == "progress":
            report = _report(block, duration, time.monotonic() - started)
            # out_time is "N/A" in some blocks (e.g. while a muxer waits): never step back.
            furthest = report["progress"] = max(furthest, report["progress"])
            yield report
            block = {}


def _report(block, duration, elapsed):
    done = block.get("progress") == "end"
    seconds = _number(block.get("out_time_us"), 1e-6)
    speed = _number(block.get("speed", "").rstrip("x"))
    fraction = 1.0 if done else 0.0
    if not done and duration and seconds is not None:
        fraction = min(max(seconds / duration, 0.0), 1.0)
    if speed is None and seconds and elapsed > 0:
        speed = seconds / elapsed
    eta = 0.0 if done else None
    if not done and speed and duration and seconds is not None:
        eta = max(duration - seconds, 0.0) / speed
    return {"progress": fraction, "speed": speed, "eta": eta}


def _number(text, scale=1.0):
    try:
        value = float(text) * scale
    except (TypeError, ValueError):  # "N/A" before the first frame
        return None
    return value if value >= 0 else None
