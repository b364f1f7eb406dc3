"""`python -m edge worker`: run the edge's transcoding jobs in a process of their own.

`python -m edge status` prints what GET /api/v1/status answers; `drop <id>` asks the tracker to
hand a video over (as DELETE /api/v1/videos/<id>); `verify` re-hashes every stored package and
quarantines corrupt ones (exit status 1 when any); `deny <id> [--reason TEXT]` and `allow <id>` edit
the edge's deny-list (edge/deny.py); `payout --amount N --currency EUR --destination TEXT
[--tracker URL]` claims the node's share of donations from each tracker (or one), signed by the node
key. Settings come from the same environment variables as the web process (SLIPSTREAM_DATA_DIR,
EDGE_TRACKER_URL, ...).
"""
import argparse
import json
import logging
import signal
import sys
import threading
import time

from protocol.ids import is_video_id

from . import create_app
from . import deny as deny_list
from .errors import ApiError
from .handover import request_drop, verify_all
from .jobs import JobLoop, recover
from .models import db
from .status import node_status
from .upstream import TrackerError, post_signed


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


def deny(app, video_id, reason):
    held = deny_list.deny(app.extensions["edge"], video_id, reason)
    print(json.dumps({"video_id": video_id, "reason": reason, "deleted": held}))
    return 0


def allow(app, video_id):
    if not deny_list.allow(video_id):
        print(f"{video_id} is not on this edge's deny-list", file=sys.stderr)
        return 1
    print(json.dumps({"video_id": video_id, "denied": False}))
    return 0


def payout(app, amount, currency, destination, tracker=None):
    """Claim `amount` from the node's account at each tracker (or `tracker`); 1 when any refused."""
    node = app.extensions["edge"]
    urls = [tracker.rstrip("/")] if tracker else [pinned.url for pinned in node.trackers]
    failed = 0
    for url in urls:
        # "action": trackers take a node's signed document as a payout claim only if it says so.
        claim = {"action": "payout", "node": node.id, "timestamp": time.time(), "amount": amount,
                 "currency": currency, "destination": destination}
        try:
            print(json.dumps({"tracker": url, **post_signed(node, url, "/api/v1/payouts", claim)}))
        except TrackerError as exc:
            print(f"{url}: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m edge", description="Slipstream edge tools")
    parser.add_argument("command", choices=["worker", "status", "drop", "verify", "deny", "allow", "payout"])
    parser.add_argument("video_id", nargs="?", help="for drop, deny and allow: the video")
    parser.add_argument("--reason", default="", help="for deny: why (kept in the deny-list)")
    parser.add_argument("--amount", type=int, help="for payout: minor units (cents)")
    parser.add_argument("--currency", default="EUR", help="for payout: ISO 4217 code")
    parser.add_argument("--destination", help="for payout: where to send it (IBAN, PayPal, Lightning address)")
    parser.add_argument("--tracker", help="for payout: only this tracker's URL (default: every configured one)")
    args = parser.parse_args(argv)
    if args.command in ("drop", "deny", "allow") and not is_video_id(args.video_id):
        parser.error(f"{args.command} needs a video id (40 lowercase hex characters)")
    if args.command == "payout" and (args.amount is None or not args.destination):
        parser.error("payout needs --amount and --destination")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app({"EDGE_BACKGROUND": False})
    if args.command in ("drop", "allow"):
        return {"drop": drop, "allow": allow}[args.command](app, args.video_id)
    if args.command == "deny":
        return deny(app, args.video_id, args.reason)
    if args.command == "payout":
        return payout(app, args.amount, args.currency, args.destination, args.tracker)
    return {"worker": worker, "status": status, "verify": verify}[args.command](app)


if __name__ == "__main__":
    sys.exit(main())
