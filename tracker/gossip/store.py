"""Storing a batch of a peer's checked changes (README.md, "One network"): which change wins.

The first origin of a video id keeps it: a change of the same id from another origin is ignored
(`conflict`), except its channel's signed deletion, which may come through any tracker; a change
not newer than the one held (by its origin's `seq`) is `stale`; our own, come back round a cycle,
is `own`. A tombstone removes the video here as a removal of its own (catalog/models.py, Removal).

A batch is read and written with a handful of statements, not a few per change: following a peer
that holds a million videos is that many changes.
"""
from peewee import EXCLUDED

from ..catalog.changes import Change, next_seq
from ..catalog.models import Removal, Video
from ..db import chunks

VIDEO_FIELDS = ("title", "description", "creator", "channel", "duration", "renditions", "poster", "size", "visibility",
                "created", "origin", "origin_url")
RESULTS = ("accepted", "refused", "stale", "conflict", "own")


def store(items, me, now):
    """Store the checked changes `items` ([(change, record)], in the feed's order) that win; return
    what became of each (RESULTS). Inside the batch's write transaction."""
    ids = [record["id"] for _, record in items]
    held = {row.video: (row.origin, row.origin_seq, row.change["record"].get("channel"))
            for chunk in chunks(ids) for row in Change.select(Change.video, Change.origin, Change.origin_seq,
                                                             Change.change).where(Change.video.in_(chunk))}
    removed = {video for chunk in chunks(ids)
               for (video,) in Removal.select(Removal.video).where(Removal.video.in_(chunk)).tuples()}
    results, videos, tombstones, stored = [], {}, [], {}
    for change, record in items:
        result = verdict(record, held.get(record["id"]), removed, me)
        results.append(result)
        if result != "accepted":
            continue
        if "removed" in record:
            tombstones.append(record)
            removed.add(record["id"])
            videos.pop(record["id"], None)
        else:
            videos[record["id"]] = video_row(record)
        held[record["id"]] = (record["origin"], record["seq"], record.get("channel"))
        stored[record["id"]] = (record, change)
    upsert_videos(list(videos.values()))
    for record in tombstones:
        video = Video.get_or_none(Video.id == record["id"]) or Video(id=record["id"])
        Removal.remove(video, record["removed"], "", now, record["document"])
    upsert_changes(list(stored.values()))
    return results


def verdict(record, held, removed, me):
    if record["origin"] == me:
        return "own"
    if held is not None and held[0] != record["origin"]:
        # Only its channel may remove another origin's video, through any tracker: records.py let
        # through only a tombstone carrying the channel's `delete` document of this video.
        deletion = record.get("removed") == "deleted" and held[2] is not None \
            and record["document"]["payload"]["channel"] == held[2]
        return "accepted" if deletion and record["id"] not in removed else "conflict"
    if held is not None and held[1] >= record["seq"]:
        return "stale"
    if "removed" not in record and record["id"] in removed:
        return "conflict"  # removed here for good (a takedown before this tracker followed feeds)
    return "accepted"


def video_row(record):
    row = {"id": record["id"], **{name: record[name] for name in VIDEO_FIELDS}}
    # Its placement, as a video registered here keeps it; its edits stay in the stored change.
    row["document"] = record["documents"][0] if record["documents"] else None
    return row


def upsert_videos(rows):
    if rows:
        update = {getattr(Video, name): getattr(EXCLUDED, name) for name in (*VIDEO_FIELDS, "document")}
        for chunk in chunks(rows, 100):  # 15 values a row, far below SQLite's limit on bound variables
            Video.insert_many(chunk).on_conflict(conflict_target=[Video.id], update=update).execute()


def upsert_changes(accepted):
    """Each accepted change, exactly as received, at the next sequence numbers of this feed."""
    first = next_seq()
    rows = [{"video": record["id"], "seq": first + n, "origin": record["origin"], "origin_seq": record["seq"],
             "change": change} for n, (record, change) in enumerate(accepted)]
    update = {getattr(Change, name): getattr(EXCLUDED, name) for name in ("seq", "origin", "origin_seq", "change")}
    for chunk in chunks(rows, 100):
        Change.insert_many(chunk).on_conflict(conflict_target=[Change.video], update=update).execute()
