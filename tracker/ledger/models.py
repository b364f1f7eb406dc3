"""The donation ledger: donations, their double-entry postings, and each account's balances.

Every donation is written in one transaction as postings that sum to zero per currency: the
counter-account `donor:external` (money that came in from outside Slipstream) is debited the
amount, and the creator, the edges and the finding tracker are credited their shares. `Balance`
keeps each account's running total per currency so reading an account is one row per currency;
`python -m tracker ledger check` proves it equal to the sum of the postings.

Exactly once: a donation carries the client's Idempotency-Key under a unique constraint, and is
written inside `write_transaction()` (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL),
which first looks the key up. The unique constraint is the backstop should two writers ever race
past the lookup: the loser's transaction rolls back and it answers like a repeat.
"""
import hashlib
import json
import uuid
from datetime import datetime, timezone

from peewee import (EXCLUDED, BigAutoField, BigIntegerField, CharField, CompositeKey, DoubleField, ForeignKeyField,
                    IntegrityError, fn)

from ..db import BaseModel, JSONField, write_transaction
from ..nodes.models import Node
from ..refusals import Conflict

DONOR = "donor:external"
MAX_KEY = 255
MAX_ACCOUNT = 300


class Donation(BaseModel):
    id = CharField(primary_key=True, max_length=32)
    key = CharField(max_length=MAX_KEY, unique=True)  # the Idempotency-Key header
    fingerprint = CharField(max_length=64)  # SHA-256 of the canonical request: same key, other body → 409
    video = CharField(max_length=40, index=True)
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    tracker = CharField(max_length=MAX_ACCOUNT)  # the account of the tracker that found the edges
    created = DoubleField()  # Unix seconds; DOUBLE, as PostgreSQL's REAL (a FloatField) is only 24 bits
    # The `served` entries that earned nothing, and why (ledger/credit.py), for replays of the answer.
    uncredited = JSONField(null=True)

    @classmethod
    def record(cls, key, gift, postings, uncredited, now):
        """Write `gift` with its [(account, amount)] postings once per key; returns (answer, replayed)."""
        fingerprint = fingerprint_of(gift)
        rows = [{"account": account, "amount": amount, "currency": gift["currency"]} for account, amount in postings]
        try:
            with write_transaction():
                first = cls.get_or_none(cls.key == key)
                if first is not None:
                    return first.answer(fingerprint), True
                donation = cls.create(id=uuid.uuid4().hex, key=key, fingerprint=fingerprint,
                                      video=gift["video_id"], amount=gift["amount"], currency=gift["currency"],
                                      tracker=gift["tracker"], created=now, uncredited=uncredited)
                # One multi-row INSERT: ids follow the list's order, which `answer` replays.
                Posting.insert_many([{**row, "donation": donation.id} for row in rows]).execute()
                for row in rows:
                    Balance.add(row["account"], row["currency"], row["amount"])
        except IntegrityError:
            # Another writer committed this key between our lookup and our insert.
            return cls.get(cls.key == key).answer(fingerprint), True
        return {"donation": donation.id, "postings": rows, "uncredited": uncredited}, False

    def answer(self, fingerprint):
        """The first answer given for this donation's key, to a request with the same fingerprint."""
        if fingerprint != self.fingerprint:
            raise Conflict("idempotency_key_reused",
                           "this Idempotency-Key was already used for a different donation")
        postings = self.postings.order_by(Posting.id)
        return {"donation": self.id,
                "postings": [{"account": p.account, "amount": p.amount, "currency": p.currency} for p in postings],
                "uncredited": self.uncredited or []}


class Posting(BaseModel):
    id = BigAutoField()
    donation = ForeignKeyField(Donation, backref="postings", index=True)
    account = CharField(max_length=MAX_ACCOUNT)
    currency = CharField(max_length=3)
    amount = BigIntegerField()  # minor units; negative is a debit

    class Meta:
        indexes = ((("account", "id"), False),)  # an account's statement, page by page

    @classmethod
    def statement(cls, account, page, per_page):
        """One page of an account's postings, newest first, with their donation; and the total."""
        query = cls.select(cls, Donation).join(Donation).where(cls.account == account)
        entries = [{"posting": p.id, "donation": p.donation.id, "video_id": p.donation.video, "amount": p.amount,
                    "currency": p.currency, "created": iso(p.donation.created)}
                   for p in query.order_by(cls.id.desc()).paginate(page, per_page)]
        return entries, query.count()


class Balance(BaseModel):
    account = CharField(max_length=MAX_ACCOUNT)
    currency = CharField(max_length=3)
    amount = BigIntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("account", "currency")

    @classmethod
    def add(cls, account, currency, amount):
        (cls.insert(account=account, currency=currency, amount=amount)
         .on_conflict(conflict_target=[cls.account, cls.currency],
                      update={cls.amount: cls.amount + EXCLUDED.amount})
         .execute())

    @classmethod
    def of(cls, account):
        """{currency: amount}, or None for an account the ledger never touched."""
        rows = cls.select().where(cls.account == account).order_by(cls.currency)
        return {row.currency: row.amount for row in rows} or None


MODELS = [Donation, Posting, Balance]


def unknown_nodes(node_ids):
    """The ids among `node_ids` this tracker never knew: neither announced nor ever credited.

    Nodes are soft state and may be forgotten; a node the ledger already credited stays known."""
    wanted = set(node_ids)
    if not wanted:
        return []
    announced = {n.id for n in Node.select(Node.id).where(Node.id.in_(list(wanted)))}
    credited = {b.account.removeprefix("node:")
                for b in Balance.select(Balance.account).where(Balance.account.in_(["node:" + n for n in wanted]))}
    return sorted(wanted - announced - credited)


def fingerprint_of(gift):
    canonical = json.dumps(gift, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def iso(stamp):
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def total_postings():
    """{(account, currency): sum of postings}, the truth `Balance` must equal."""
    query = Posting.select(Posting.account, Posting.currency, fn.SUM(Posting.amount).alias("total")) \
        .group_by(Posting.account, Posting.currency).tuples()
    return {(account, currency): int(total) for account, currency, total in query}
