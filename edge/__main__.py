"""`python -m edge worker`: run the edge's transcoding jobs in a process of their own.

`python -m edge status` prints what GET /api/v1/status answers; `drop <id>` asks the tracker to
hand a video over (as DELETE /api/v1/videos/<id>); `verify` re-hashes every stored package and
quarantines corrupt ones (exit status 1 when any). Settings come from the same
environment variables as the web process (SLIPSTREAM_DATA_DIR, EDGE_TRACKER_URL, ...).
"""
import argparse
import json
import logging
import signal
import sys
import threading

from . import create_app
from .errors import ApiError
from .handover import request_drop, verify_all
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


def drop(app, video_id):
    node = app.extensions["edge"]
    if video_id not in node.published():
        print(f"no published video {video_id} here", file=sys.stderr)
        return 1
    try:
        with db.connection_context():
            request_drop(node, video_id)
    except ApiError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(json.dumps({"state": "handing_over", "video_id": video_id}))
    return 0


def verify(app):
    node = app.extensions["edge"]
    corrupt = verify_all(node)
    for video_id, problems in corrupt.items():
        print(f"{video_id}: quarantined: {'; '.join(problems)}")
    print(f"{len(node.published())} videos sound, {len(corrupt)} quarantined")
    return 1 if corrupt else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m edge", description="Slipstream edge tools")
    parser.add_argument("command", choices=["worker", "status", "drop", "verify"])
    parser.add_argument("video_id", nargs="?", help="for drop: the video to hand over")
    args = parser.parse_args(argv)
    if args.command == "drop" and not args.video_id:
        parser.error("drop needs a video id")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app({"EDGE_BACKGROUND": False})
    if args.command == "drop":
        return drop(app, args.video_id)
    return {"worker": worker, "status": status, "verify": verify}[args.command](app)


if __name__ == "__main__":
    sys.exit(main())
