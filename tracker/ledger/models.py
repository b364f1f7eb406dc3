"""The money ledger: donations, payouts, their double-entry postings, and each account's balances.

Every donation is written in one transaction as postings that sum to zero per currency: the
counter-account `donor:external` (money that came in from outside Slipstream) is debited the
amount, and the creator, the edges and the finding tracker are credited their shares. A payout
(payouts.py) moves an owner's money to `payouts:pending`, then on to `payouts:paid` (money that
left Slipstream) or back to the owner; each step is its own zero-sum pair of postings. `Balance`
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

from peewee import (EXCLUDED, JOIN, BigAutoField, BigIntegerField, CharField, CompositeKey, DoubleField,
                    ForeignKeyField, IntegrityError, fn)

from ..clock import iso
from ..db import BaseModel, JSONField, write_transaction
from ..nodes.models import Node
from ..refusals import Conflict, NotFound, Unproven
from ..signers import advance

DONOR = "donor:external"
PENDING = "payouts:pending"  # claimed by their owners, not yet paid out
PAID = "payouts:paid"  # money that left Slipstream: the counterpart of DONOR
MAX_KEY = 255
MAX_ACCOUNT = 300
MAX_DESTINATION = 200
MAX_NOTE = 500  # a payout's reference or the reason it was rejected


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


class Payout(BaseModel):
    """An owner's claim on its balance (payouts.py): pending until the operator pays it outside
    Slipstream (`reference` names that transfer) or rejects it (`reason`), and decided only once."""
    id = CharField(primary_key=True, max_length=32)
    account = CharField(max_length=MAX_ACCOUNT, index=True)  # the owner's: channel:<id> or node:<id>
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    destination = CharField(max_length=MAX_DESTINATION)  # free text: an IBAN, a PayPal or Lightning address
    state = CharField(max_length=10, default="pending", index=True)  # pending, paid, rejected
    created = DoubleField()
    decided = DoubleField(null=True)
    reference = CharField(max_length=MAX_NOTE, null=True)
    reason = CharField(max_length=MAX_NOTE, null=True)

    @classmethod
    def claim(cls, account, claim, signer, timestamp, now):
        """Move `claim["amount"]` from `account` to payouts:pending, once per signed document."""
        with write_transaction():
            advance(signer, timestamp)
            have = (Balance.of(account) or {}).get(claim["currency"], 0)
            if have < claim["amount"]:
                raise Unproven("insufficient_funds", f"{account} holds {have} {claim['currency']} (minor units), "
                                                     f"less than the {claim['amount']} claimed")
            payout = cls.create(id=uuid.uuid4().hex, account=account, created=now, **claim)
            post(payout, "payout_requested", [(account, -payout.amount), (PENDING, payout.amount)])
        return payout

    @classmethod
    def decide(cls, payout_id, state, note, now):
        """Mark a pending payout paid (`note`: the transfer's reference) or rejected (`note`: why; the
        amount goes back to its owner)."""
        with write_transaction():
            payout = cls.get_or_none(cls.id == payout_id)
            if payout is None:
                raise NotFound("unknown_payout", "this tracker has no payout with that id")
            if payout.state != "pending":
                raise Conflict("already_decided", f"this payout was already {payout.state}")
            payout.state, payout.decided = state, now
            if state == "paid":
                payout.reference = note
                back = [(PENDING, -payout.amount), (PAID, payout.amount)]
            else:
                payout.reason = note
                back = [(PENDING, -payout.amount), (payout.account, payout.amount)]
            payout.save()
            post(payout, "payout_" + state, back)
        return payout

    @classmethod
    def listing(cls, state, page, per_page):
        """One page of payouts in `state` (None: all), oldest first, the order they are worked through."""
        query = cls.select() if state is None else cls.select().where(cls.state == state)
        return [p.as_json() for p in query.order_by(cls.created, cls.id).paginate(page, per_page)], query.count()

    def as_json(self):
        return {"payout": self.id, "account": self.account, "amount": self.amount, "currency": self.currency,
                "destination": self.destination, "state": self.state, "created": iso(self.created),
                "decided": None if self.decided is None else iso(self.decided), "reference": self.reference,
                "reason": self.reason}


class Posting(BaseModel):
    id = BigAutoField()
    # What the posting is part of: a donation, or one step of a payout (`reason` says which).
    donation = ForeignKeyField(Donation, backref="postings", index=True, null=True)
    payout = ForeignKeyField(Payout, backref="postings", index=True, null=True)
    reason = CharField(max_length=20, default="donation")  # donation, payout_requested, payout_paid, payout_rejected
    account = CharField(max_length=MAX_ACCOUNT)
    currency = CharField(max_length=3)
    amount = BigIntegerField()  # minor units; negative is a debit

    class Meta:
        indexes = ((("account", "id"), False),)  # an account's statement, page by page

    @classmethod
    def with_sources(cls):
        """Postings with their donation or payout, to say when and why each was made."""
        return (cls.select(cls, Donation, Payout).join(Donation, JOIN.LEFT_OUTER).switch(cls)
                .join(Payout, JOIN.LEFT_OUTER))

    @classmethod
    def statement(cls, account, page, per_page):
        """One page of an account's postings, newest first, each with why it was made; and the total."""
        query = cls.with_sources().where(cls.account == account)
        entries = [p.as_entry() for p in query.order_by(cls.id.desc()).paginate(page, per_page)]
        return entries, query.count()

    def as_entry(self):
        donation, payout = self.donation, self.payout
        return {"posting": self.id, "reason": self.reason, "donation": donation and donation.id,
                "video_id": donation and donation.video, "payout": payout and payout.id, "amount": self.amount,
                "currency": self.currency, "created": iso(self.made())}

    def made(self):
        """Unix seconds when the posting was made: its donation's time, or its payout step's."""
        if self.donation is not None:
            return self.donation.created
        return self.payout.created if self.reason == "payout_requested" else self.payout.decided


def post(payout, reason, rows):
    """One payout step: [(account, amount)] postings summing to zero, and the balances they move."""
    Posting.insert_many([{"payout": payout.id, "reason": reason, "account": account, "amount": amount,
                          "currency": payout.currency} for account, amount in rows]).execute()
    for account, amount in rows:
        Balance.add(account, payout.currency, amount)


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


MODELS = [Donation, Payout, Posting, Balance]


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


def total_postings():
    """{(account, currency): sum of postings}, the truth `Balance` must equal."""
    query = Posting.select(Posting.account, Posting.currency, fn.SUM(Posting.amount).alias("total")) \
        .group_by(Posting.account, Posting.currency).tuples()
    return {(account, currency): int(total) for account, currency, total in query}
