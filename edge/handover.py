"""Operator actions on stored videos: hand one over to other edges, and re-check everything stored.

`DELETE /api/v1/videos/<id>` (bearer EDGE_ADMIN_TOKEN) and `python -m edge drop <id>` ask every
configured tracker to move the video (`POST {tracker}/api/v1/nodes/drop`, signed like an announce).
A tracker's announce answer says `{"action": "delete"}` once enough other live edges hold audited
copies for it. The copy is deleted only for a video this edge asked to drop, and only once every
tracker that took the request has said `delete`: each counts copies on its own, and any of them may
still count this one among a video's last. A tracker that was unreachable or refused the request
(it never knew the copy) is not waited for; one that took it and then dies holds the copy back
until the operator asks again.

A `remove` task is another matter: the video was deleted by its channel or taken down by a
tracker's operator, and the copy is deleted at once on the word of any one pinned tracker.
"""
import json
import logging
import os
import time

from flask import Blueprint, current_app, request

from protocol.manifest import verify_dir
from protocol.operator import token_refusal

from .errors import ApiError, not_found
from .models import Drop, db
from .upstream import TrackerError, post_signed

log = logging.getLogger(__name__)
bp = Blueprint("handover", __name__)


@bp.delete("/api/v1/videos/<video_id>")
def hand_over(video_id):
    check_admin(current_app.config["EDGE_ADMIN_TOKEN"], request.headers.get("Authorization", ""))
    node = current_app.extensions["edge"]
    if video_id not in node.published():
        raise not_found()
    request_drop(node, video_id)
    return {"state": "handing_over", "video_id": video_id}, 202


def check_admin(token, authorization):
    refusal = token_refusal(token, authorization, "EDGE_ADMIN_TOKEN")
    if refusal:
        status = refusal[0]
        raise ApiError(*refusal, {"WWW-Authenticate": 'Bearer realm="edge"'} if status == 401 else None)


def request_drop(node, video_id):
    """Record that we may delete the video on the trackers' word, then ask each tracker; the ones
    that take the request are those whose `delete` is waited for."""
    urls = [tracker.url for tracker in node.trackers]
    # Recorded first: a tracker may answer an announce with `delete` before we hear back from all.
    Drop.insert(video_id=video_id, requested=time.time(), waiting=json.dumps(urls)).on_conflict_replace().execute()
    refused = {}
    for tracker in node.trackers:
        try:
            post_signed(node, tracker.url, "/api/v1/nodes/drop",
                        {"node": node.id, "timestamp": time.time(), "video_id": video_id})
        except TrackerError as exc:
            refused[tracker.url] = str(exc)
    if len(refused) == len(urls):
        Drop.delete().where(Drop.video_id == video_id).execute()
        raise ApiError(502, "tracker_refused", f"no tracker took the hand-over: {'; '.join(refused.values())}")
    for url, reason in refused.items():
        log.warning("hand-over of %s: tracker %s did not take it, so it is not waited for: %s", video_id, url, reason)
    with db.atomic():
        drop = Drop.get_or_none(Drop.video_id == video_id)
        if drop is not None:
            drop.waiting = json.dumps([url for url in json.loads(drop.waiting) if url not in refused])
            drop.save()


def delete_copy(node, video_id, tracker_url=None):
    """A tracker's `delete` task: honoured only for a video we asked to drop, and only once each
    tracker that took the request has sent it."""
    with db.connection_context(), db.atomic():
        drop = Drop.get_or_none(Drop.video_id == video_id)
        if drop is None:
            log.warning("tracker asked to delete %s, which this edge never asked to drop; kept", video_id)
            return False
        if drop.waiting is not None:
            waiting = [url for url in json.loads(drop.waiting) if url != tracker_url]
            if waiting:
                drop.waiting = json.dumps(waiting)
                drop.save()
                log.info("tracker %s agrees to delete %s; still waiting for %s", tracker_url, video_id,
                         ", ".join(waiting))
                return False
        node.unpublish(video_id)
        Drop.delete().where(Drop.video_id == video_id).execute()
    log.info("handed video %s over; local copy deleted", video_id)
    return True


def remove_copy(node, video_id, tracker_url=None, reason=""):
    """A tracker's `remove` task: the video was deleted by its channel or taken down, so the copy goes
    at once, whatever other trackers say. An edge trusts each of its pinned trackers for this (a
    tracker could always stop listing it anyway); a hand-over of it in progress ends with it."""
    with db.connection_context(), db.atomic():
        Drop.delete().where(Drop.video_id == video_id).execute()
    if video_id not in node.published():
        return False
    node.unpublish(video_id)
    log.warning("video %s removed on the word of tracker %s (%s); local copy deleted", video_id, tracker_url,
                reason or "no reason given")
    return True


def verify_all(node):
    """Re-hash every stored package; move corrupt ones to quarantine/. Returns {id: problems}."""
    corrupt = {}
    for video_id in node.published():
        problems = verify_dir(node.video_path(video_id), video_id)
        if problems:
            corrupt[video_id] = problems
            quarantine = node.path("quarantine")
            os.makedirs(quarantine, exist_ok=True)
            # A rename: the package leaves videos/ at once and stays for the operator to inspect.
            os.rename(node.video_path(video_id), os.path.join(quarantine, f"{video_id}.{int(time.time())}"))
            log.warning("video %s quarantined: %s", video_id, "; ".join(problems[:3]))
    return corrupt
