"""Flags: anyone may tell the operator a video is spam, illegal, someone else's work or otherwise wrong.

One row per video and flagging address, so an address that flags a video again changes its reason
and note but still counts once. The address is kept only as a hash: the operator needs to count
distinct flaggers, not to know who they are. A dismissed flag stays (the address counted once) until
the same address flags the video again, which counts anew.
"""
import hashlib

from peewee import CharField, CompositeKey, DoubleField, TextField, fn

from ..db import BaseModel, write_transaction

REASONS = ("spam", "illegal", "copyright", "other")
MAX_NOTE = 1000
NOTES_SHOWN = 5  # the newest notes the operator sees per video


class Flag(BaseModel):
    video = CharField(max_length=40)
    flagger = CharField(max_length=64)  # SHA-256 of the client's address key (ratelimits.client)
    reason = CharField(max_length=10)
    note = TextField(default="")
    created = DoubleField()
    dismissed = DoubleField(null=True)

    class Meta:
        primary_key = CompositeKey("video", "flagger")
        indexes = ((("dismissed", "video"), False),)

    @classmethod
    def record(cls, video_id, client, reason, note, now):
        """Flag the video for this client; returns whether it counted (False: this address already had an
        open flag on it, now updated)."""
        flagger = hashlib.sha256(client.encode()).hexdigest()
        with write_transaction():
            before = cls.get_or_none((cls.video == video_id) & (cls.flagger == flagger))
            cls.insert(video=video_id, flagger=flagger, reason=reason, note=note, created=now).on_conflict(
                conflict_target=[cls.video, cls.flagger],
                update={cls.reason: reason, cls.note: note, cls.created: now, cls.dismissed: None}).execute()
        return before is None or before.dismissed is not None

    @classmethod
    def open_by_video(cls, page, per_page):
        """One page of flagged videos, most recently flagged first: [{video_id, flags, reasons, notes,
        latest}], and how many videos have open flags."""
        is_open = cls.dismissed.is_null()
        latest = fn.MAX(cls.created)
        videos = (cls.select(cls.video, fn.COUNT(cls.flagger), latest).where(is_open).group_by(cls.video)
                  .order_by(latest.desc(), cls.video))
        rows = list(videos.paginate(page, per_page).tuples())
        flags = {}
        if rows:
            for flag in cls.select().where(is_open & cls.video.in_([video for video, _, _ in rows])) \
                    .order_by(cls.created.desc()):
                flags.setdefault(flag.video, []).append(flag)
        groups = [{"video_id": video, "flags": count, "latest": latest,
                   "reasons": {reason: sum(f.reason == reason for f in flags[video]) for reason in REASONS},
                   "notes": [f.note for f in flags[video] if f.note][:NOTES_SHOWN]}
                  for video, count, latest in rows]
        return groups, videos.count()

    @classmethod
    def dismiss(cls, video_id, now):
        """Close the video's open flags; returns how many there were."""
        return cls.update(dismissed=now).where((cls.video == video_id) & cls.dismissed.is_null()).execute()


MODELS = [Flag]
