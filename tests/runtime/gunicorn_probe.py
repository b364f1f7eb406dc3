"""gunicorn settings for tests that look inside a worker: the project's own (gunicorn.conf.py), plus a
SIGUSR2 handler that writes what the worker holds to `probe-<pid>-<n>.json` in SLIPSTREAM_DATA_DIR.

Nothing here runs in production: tests/servers.py's Server passes this file with `-c` only when a
test asks for `probe=True`. tracemalloc starts once the app is loaded, so the traced bytes are what
the worker allocated while serving, not the imports.
"""
import asyncio
import collections
import gc
import json
import os
import runpy
import signal
import threading
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
globals().update({name: value for name, value in runpy.run_path(os.path.join(ROOT, "gunicorn.conf.py")).items()
                  if not name.startswith("__")})

# Objects of these types live as long as a connection or one of its requests. Timers are counted apart,
# live ones only: a cancelled one waits in the loop's heap until its time or a clean-up comes (asyncio
# drops them once they are half the heap), holding nothing.
PER_CONNECTION = ("GuardedProtocol", "FileProtocol", "_SelectorSocketTransport", "BodyReceiver", "Body", "Task")


def post_worker_init(worker):
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
        "buckets": sum(len(b.buckets) for b in buckets),
        "traced": tracemalloc.get_traced_memory()[0],
        "objects": {kind: kinds[kind] for kind in PER_CONNECTION},
    }
    path = os.path.join(os.environ["SLIPSTREAM_DATA_DIR"], f"probe-{os.getpid()}-{number}.json")
    with open(path + ".part", "w") as f:
        json.dump(held, f)
    os.rename(path + ".part", path)
