"""The last accepted timestamp of every key that signs requests without a row of its own (channels,
and nodes claiming payouts): a signed document not newer than the last one accepted from its key is a
replay (signed.py checks the signature and the skew, this the order).

Nodes keep their marks in their own rows (nodes/models.py) because an announce must not wait on a
payout claim signed in the same instant; every other signed request of a key shares this one mark.

A request accepted with its document is also kept in `SignedRequest`, as received and in order: a
video's record is its placement and then its edits, and whoever is handed the record later (a peer
tracker, an auditor) can check each step against the channel's key.
"""
from peewee import AutoField, CharField, DoubleField

from .db import BaseModel, JSONField, chunks
from .refusals import Invalid


class SignerClock(BaseModel):
    key = CharField(primary_key=True, max_length=64)  # the signer's Ed25519 public key, hex
    last = DoubleField()


class SignedRequest(BaseModel):
    id = AutoField()
    key = CharField(max_length=64, index=True)
    timestamp = DoubleField()
    subject = CharField(max_length=64, null=True, index=True)  # what it is about: a video's id, a channel's key
    document = JSONField()  # {"payload", "signature"} as received

    @classmethod
    def about(cls, subject):
        """The documents accepted about `subject`, oldest first."""
        return [row.document for row in cls.select().where(cls.subject == subject).order_by(cls.timestamp, cls.id)]

    @classmethod
    def about_each(cls, subjects):
        """{subject: its documents, oldest first} for each of `subjects` that has any."""
        found = {}
        for chunk in chunks(subjects):
            for row in cls.select().where(cls.subject.in_(chunk)).order_by(cls.timestamp, cls.id):
                found.setdefault(row.subject, []).append(row.document)
        return found


def advance(key, timestamp, document=None, subject=None):
    """Accept `timestamp` as the key's newest, or refuse a replay; keep `document` (the request as
    received) about `subject`. Call it inside the write transaction of what the document does, so a
    refused request changes nothing and two copies of one document sent at once cannot both pass."""
    row = SignerClock.get_or_none(SignerClock.key == key)
    if row is not None and timestamp <= row.last:
        raise Invalid("replayed", "timestamp is not newer than the last request accepted from this key")
    SignerClock.insert(key=key, last=timestamp).on_conflict(
        conflict_target=[SignerClock.key], update={SignerClock.last: timestamp}).execute()
    if document is not None:
        SignedRequest.create(key=key, timestamp=timestamp, subject=subject, document=document)


MODELS = [SignerClock, SignedRequest]
