"""`python -m edge worker`: run the edge's transcoding jobs in a process of their own.

`python -m edge status` prints what GET /api/v1/status answers. Settings come from the same
environment variables as the web process (SLIPSTREAM_DATA_DIR, EDGE_TRACKER_URL, ...).
"""
import argparse
import json
import logging
import signal
import sys
import threading

from . import create_app
from .jobs import JobLoop, recover
from .models import db
from .status import node_status


def worker(app):
    node = app.extensions["edge"]
    recover(node)
    loop = JobLoop(node, "edge-worker")
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    loop.start()
    logging.getLogger("edge.worker").info("edge worker for node %s running jobs", node.id)
    while not stopped.wait(1) and loop.is_alive():
        pass
    loop.stop(timeout=5)  # a job still running is recovered when a worker starts again
    return 0


def status(app):
    with db.connection_context():
        print(json.dumps(node_status(app.extensions["edge"]), indent=2))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m edge", description="Slipstream edge tools")
    parser.add_argument("command", choices=["worker", "status"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app({"EDGE_BACKGROUND": False})
    return {"worker": worker, "status": status}[args.command](app)


if __name__ == "__main__":
    sys.exit(main())
