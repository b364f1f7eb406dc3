"""The last accepted timestamp of every key that signs requests without a row of its own (channels,
and nodes claiming payouts): a signed document not newer than the last one accepted from its key is a
replay (signed.py checks the signature and the skew, this the order).

Nodes keep their marks in their own rows (nodes/models.py) because an announce must not wait on a
payout claim signed in the same instant; every other signed request of a key shares this one mark.
"""
from peewee import CharField, DoubleField

from .db import BaseModel
from .refusals import Invalid


class SignerClock(BaseModel):
    key = CharField(primary_key=True, max_length=64)  # the signer's Ed25519 public key, hex
    last = DoubleField()


def advance(key, timestamp):
    """Accept `timestamp` as the key's newest, or refuse a replay. Call it inside the write transaction
    of what the document does, so a refused request changes nothing and two copies of one document
    sent at once cannot both pass."""
    row = SignerClock.get_or_none(SignerClock.key == key)
    if row is not None and timestamp <= row.last:
        raise Invalid("replayed", "timestamp is not newer than the last request accepted from this key")
    SignerClock.insert(key=key, last=timestamp).on_conflict(
        conflict_target=[SignerClock.key], update={SignerClock.last: timestamp}).execute()


MODELS = [SignerClock]
