"""gunicorn settings for tests that look inside a worker: the project's own (gunicorn.conf.py), plus a
SIGUSR2 handler that writes what the worker holds to `probe-<pid>-<n>.json` in SLIPSTREAM_DATA_DIR:
its connections, tasks, timers and rate buckets, the Python memory it traces, and where its memory
sits (RSS; pymalloc's arenas and the bytes in use in them; glibc's heap, in use and free).

Nothing here runs in production: tests/servers.py's Server passes this file with `-c` only when asked
(tests/runtime/test_worker_memory.py, bench/memory.py). tracemalloc starts once the app is loaded, so
the traced bytes are what the worker allocated while serving, not the imports; PROBE_TRACE=0 leaves it
off, as it costs memory of its own (bench/memory.py, which reads RSS).
"""
import asyncio
import collections
import ctypes
import gc
import json
import os
import runpy
import signal
import sys
import tempfile
import threading
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
globals().update({name: value for name, value in runpy.run_path(os.path.join(ROOT, "gunicorn.conf.py")).items()
                  if not name.startswith("__")})

# Objects of these types live as long as a connection or one of its requests. Timers are counted apart,
# live ones only: a cancelled one waits in the loop's heap until its time or a clean-up comes (asyncio
# drops them once they are half the heap), holding nothing.
PER_CONNECTION = ("GuardedProtocol", "FileProtocol", "_SelectorSocketTransport", "BodyReceiver", "Body", "Task")


class MallInfo2(ctypes.Structure):
    """glibc's struct mallinfo2 (glibc 2.33+): every arena, in bytes."""
    _fields_ = [(name, ctypes.c_size_t) for name in
                ["arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"]]


def post_worker_init(worker):
    if os.environ.get("PROBE_TRACE", "1") == "1":
        tracemalloc.start()
    probes = iter(range(1, 1 << 30))
    worker.loop.add_signal_handler(signal.SIGUSR2, lambda: write(worker, next(probes)))


def write(worker, number):
    gc.collect()  # what a cycle holds is garbage, not something the worker keeps
    loop, book = worker.loop, worker.connections
    kinds = collections.Counter(type(o).__name__ for o in gc.get_objects())
    app = worker.asgi.wsgi_app
    buckets = [b for name, b in app.extensions.items() if name.endswith(("rates", "_creations"))]
    buckets = [b for group in buckets for b in (group.values() if isinstance(group, dict) else [group])]
    held = {
        "open": len(book.open), "addresses": [str(key) for key in book.per_address], "nr_conns": worker.nr_conns,
        "tasks": len(asyncio.all_tasks(loop)), "timers": sum(not h.cancelled() for h in loop._scheduled),
        "descriptors": len(loop._selector.get_map()), "threads": threading.active_count(),
        "buckets": sum(len(b.buckets) for b in buckets), "body_memory": worker.asgi.flask.memory.held,
        "traced": tracemalloc.get_traced_memory()[0],
        "objects": {kind: kinds[kind] for kind in PER_CONNECTION},
        "python_objects": sum(kinds.values()),
        **allocators(),
    }
    path = os.path.join(os.environ["SLIPSTREAM_DATA_DIR"], f"probe-{os.getpid()}-{number}.json")
    with open(path + ".part", "w") as f:
        json.dump(held, f)
    os.rename(path + ".part", path)


def allocators():
    """Where the worker's memory sits, in bytes."""
    with open("/proc/self/status") as f:
        sizes = {"rss": next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))}
    with tempfile.TemporaryFile() as report:  # sys._debugmallocstats writes to the C stderr only
        saved = os.dup(2)
        os.dup2(report.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        report.seek(0)
        for line in report.read().decode().splitlines():
            for name, key in (("# arenas allocated current", "pymalloc_arenas"),
                              ("# bytes in allocated blocks", "pymalloc_in_use")):
                if line.startswith(name):
                    sizes[key] = int(line.rpartition("=")[2].replace(",", ""))
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except AttributeError:  # not glibc, or older than 2.33
        return sizes
    mallinfo2.restype = MallInfo2
    info = mallinfo2()
    return {**sizes, "malloc_in_use": info.uordblks + info.hblkhd, "malloc_free": info.fordblks}
