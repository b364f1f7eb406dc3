"""The catalog's change feed (README.md, "One network"): one row per video id, the newest signed
change of it, at a sequence number that only grows.

A change is `{"record": {...}, "signature": hex}`: the record is a video's public facts or a
tombstone (`removed`: deleted or takedown), and the signature is its origin tracker's (the record's
`origin`, a public key) over the record's canonical JSON. A video registered here is signed by this
tracker's key when it changes; a peer's change is stored exactly as it came, so it relays unchanged
and every tracker down a line can check it against its origin.

Sequence numbers are taken as max + 1 inside the catalog's write transaction (db.write_transaction:
SQLite's write lock, PostgreSQL's advisory lock), so they are handed out in the order the changes
commit and a reader that has seen number n has seen every number below it, whichever worker or
process wrote them. A video that changes again moves to a new number, so the feed holds one row per
video: a follower catching up reads each video once, however often it changed.
"""
from flask import current_app
from peewee import SQL, BigIntegerField, CharField, Tuple, fn

from protocol.signing import sign

from ..db import BaseModel, JSONField, chunks
from ..identity import signing_key
from ..signers import SignedRequest
from .models import Video

REMOVED_KINDS = ("deleted", "takedown")  # a Removal's kinds (models.py)
# Videos signed into the feed per transaction by the backfill: it holds the write lock that long
# (about a tenth of a second on a loaded machine), so uploads and edits wait no longer than that.
BACKFILL_BATCH = 500


class Change(BaseModel):
    video = CharField(primary_key=True, max_length=40)
    seq = BigIntegerField(unique=True)
    origin = CharField(max_length=64)  # the key that signed it
    origin_seq = BigIntegerField()  # the origin's own sequence number: a newer one replaces an older
    change = JSONField()  # {"record", "signature"} exactly as its origin signed it

    @classmethod
    def since(cls, cursor, limit):
        """Up to `limit` changes after sequence number `cursor`, oldest first, and the cursor after them."""
        rows = list(cls.select(cls.seq, cls.change).where(cls.seq > cursor).order_by(cls.seq).limit(limit))
        return [row.change for row in rows], rows[-1].seq if rows else cursor

    @classmethod
    def newest(cls):
        return cls.select(fn.MAX(cls.seq)).scalar() or 0

    @classmethod
    def put(cls, video_id, origin, origin_seq, change, seq):
        cls.insert(video=video_id, seq=seq, origin=origin, origin_seq=origin_seq, change=change).on_conflict(
            conflict_target=[cls.video],
            update={cls.seq: seq, cls.origin: origin, cls.origin_seq: origin_seq, cls.change: change}).execute()


def next_seq():
    """The next sequence number; only inside the write transaction that stores its change."""
    return Change.newest() + 1


def video_record(video, edits=None):
    """The public facts of a video as its change feed carries them (signed by `origin`); a channel's
    video also carries every document its channel signed about it, in order: its placement, then
    its edits (signers.py; `edits`, when the caller read them already), so a follower can replay them
    and check the fields the channel controls."""
    documents = []
    if video.channel:
        documents = [video.document, *(SignedRequest.about(video.id) if edits is None else edits)]
    return {
        "id": video.id, "title": video.title, "description": video.description, "creator": video.creator,
        "channel": video.channel, "documents": documents, "duration": video.duration,
        "renditions": video.renditions, "poster": video.poster, "size": video.size,
        "visibility": video.visibility, "created": video.created,
    }


def publish(video):
    """Sign and store the change of a video registered here (or changed here). Call it inside the
    write transaction that made the change."""
    seq = next_seq()
    store_own(video.id, {**video_record(video), **me()}, seq)


def removed(removal):
    """The tombstone of a removed video (catalog/models.py, Removal), with its channel's signed
    deletion if it has one: the video leaves every tracker that follows this one's feed, and the
    tombstone stays so it reaches those that follow them. Inside the removal's write transaction."""
    store_own(removal.video, {"id": removal.video, "removed": removal.kind, "document": removal.document,
                              **me()}, next_seq())


def me():
    return {"origin": current_app.config["TRACKER_ID"], "origin_url": current_app.config["SLIPSTREAM_PUBLIC_URL"]}


def store_own(video_id, record, seq):
    record["seq"] = seq
    Change.put(video_id, record["origin"], seq, signed(record, signing_key()), seq)


def signed(record, key):
    document = sign(record, key)
    return {"record": document["payload"], "signature": document["signature"]}


def backfill(after=None, limit=BACKFILL_BATCH):
    """Sign into the feed up to `limit` of the videos registered here that have no change yet (a
    catalog older than the feed), oldest first from after `after` (the (created, id) this returned
    last; None: from the first); return where it stopped, or None when none were left. Inside a write
    transaction, so an edit cannot publish a video between this reading it and signing it.

    The position is the caller's, so a walk over a million videos reads each once: asking again for
    "the oldest without a change" from the start would walk past all those already signed."""
    # `origin || ''` is null exactly when origin is, but no index answers it: on the origin's index
    # (all null in a catalog older than the feed) the database sorted a million rows by date for each
    # batch (7 s a batch), where the date index walks straight to the next 500.
    query = Video.select().where(Video.origin.concat("").is_null()
                                 & ~fn.EXISTS(Change.select(SQL("1")).where(Change.video == Video.id)))
    if after is not None:
        query = query.where(Tuple(Video.created, Video.id) > Tuple(*after))
    videos = list(query.order_by(Video.created, Video.id).limit(limit))
    if not videos:
        return None
    documents = SignedRequest.about_each([video.id for video in videos if video.channel])
    home, key, first = me(), signing_key(), next_seq()
    rows = []
    for n, video in enumerate(videos):
        record = {**video_record(video, documents.get(video.id, [])), **home, "seq": first + n}
        rows.append({"video": video.id, "seq": first + n, "origin": home["origin"], "origin_seq": first + n,
                     "change": signed(record, key)})
    for chunk in chunks(rows, 100):  # 5 values a row, far below SQLite's limit on bound variables
        Change.insert_many(chunk).execute()
    return videos[-1].created, videos[-1].id


MODELS = [Change]
