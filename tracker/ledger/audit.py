"""`python -m tracker ledger check` and `python -m tracker ledger export DIR`.

check: every invariant the ledger promises, read straight from the tables; each breach is one line
naming the donation or account. export: a CSV statement per account (for settlement outside
Slipstream), plus `accounts.csv`, the index of accounts, balances and file names.
"""
import csv
import hashlib
import itertools
import os
import re
import sys
from urllib.parse import urlsplit

from peewee import JOIN, Case, PostgresqlDatabase, fn

from .. import config as settings
from ..db import database, open_database
from .currencies import CURRENCIES, major
from .models import DONOR, PENDING, Balance, Donation, Payout, Posting, total_postings

SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def run(command, directory=None):
    """The CLI: `check` or `export`, on the tracker's database as its settings name it; the exit status."""
    config = {**settings.DEFAULTS, **settings.from_environment()}
    settings.derive(config)
    url = config["DATABASE_URL"]
    # A mistyped data dir must not pass the check as an empty ledger, nor leave an empty database behind.
    if url.startswith("sqlite") and not os.path.exists(urlsplit(url).path[1:]):
        print(f"no tracker database at {url}", file=sys.stderr)
        return 2
    database.initialize(open_database(url))
    with database.connection_context(), database.atomic():
        if isinstance(database.obj, PostgresqlDatabase):
            # One snapshot for every query, so writes committed meanwhile cannot look like a breach.
            database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if not database.table_exists(Donation._meta.table_name):
            print(f"no donation ledger in {url}", file=sys.stderr)
            return 2
        if command == "export":
            print(f"wrote {export(directory)} account statements to {directory}")
            return 0
        breaches = check()
        for breach in breaches:
            print("BREACH " + breach, file=sys.stderr)
        donations = Donation.select().count()
        print(f"{donations} donations, {len(breaches)} breaches" if breaches
              else f"{donations} donations: ledger sound")
        return 1 if breaches else 0


def check():
    """A list of breaches, empty when the ledger is sound."""
    breaches = []
    unbalanced = (Posting.select(Posting.donation, Posting.payout, Posting.reason, Posting.currency,
                                 fn.SUM(Posting.amount))
                  .group_by(Posting.donation, Posting.payout, Posting.reason, Posting.currency)
                  .having(fn.SUM(Posting.amount) != 0).tuples())
    for donation, payout, reason, currency, total in unbalanced:
        what = f"donation {donation}" if donation else f"payout {payout} ({reason})"
        breaches.append(f"{what}: postings in {currency} sum to {total}, not 0")
    breaches += payout_breaches()
    credited = fn.SUM(Case(None, [(Posting.amount > 0, Posting.amount)], 0))
    donor = fn.SUM(Case(None, [(Posting.account == DONOR, Posting.amount)], 0))
    foreign = fn.SUM(Case(None, [(Posting.currency != Donation.currency, 1)], 0))
    shape = (Donation.select(Donation.id, Donation.amount, Donation.currency, fn.COUNT(Posting.id),
                             credited, donor, foreign)
             .join(Posting, on=(Posting.donation == Donation.id), join_type=JOIN.LEFT_OUTER)
             .group_by(Donation.id, Donation.amount, Donation.currency).tuples())
    for donation, amount, currency, count, credit, debit, other in shape:
        if not count:
            breaches.append(f"donation {donation}: has no postings")
            continue
        if other:
            breaches.append(f"donation {donation}: postings in another currency than its {currency}")
        if credit != amount or debit != -amount:
            breaches.append(f"donation {donation}: {amount} {currency} donated, but {DONOR} debited "
                            f"{-debit} and the shares credit {credit}")
    truth = total_postings()
    stored = {(b.account, b.currency): b.amount for b in Balance.select()}
    for account, currency in sorted(set(truth) | set(stored)):
        want, have = truth.get((account, currency), 0), stored.get((account, currency))
        if have != want:
            breaches.append(f"account {account}: stored {currency} balance "
                            f"{'missing' if have is None else have}, postings sum to {want}")
    return breaches


def payout_breaches():
    """Each payout has its request's postings and, once decided, exactly its decision's; and
    payouts:pending holds exactly the pending payouts' amounts."""
    breaches = []
    steps = (Posting.select(Posting.payout, Posting.reason).where(Posting.payout.is_null(False))
             .group_by(Posting.payout, Posting.reason).tuples())
    made = {}
    for payout, reason in steps:
        made.setdefault(payout, set()).add(reason)
    pending = {}
    for payout in Payout.select():
        want = {"payout_requested"} | ({"payout_" + payout.state} if payout.state != "pending" else set())
        if made.get(payout.id, set()) != want:
            breaches.append(f"payout {payout.id}: {payout.state}, but its postings are "
                            f"{sorted(made.get(payout.id, set())) or 'missing'}")
        if payout.state == "pending":
            pending[payout.currency] = pending.get(payout.currency, 0) + payout.amount
    held = total_postings()
    for currency in sorted(set(pending) | {c for a, c in held if a == PENDING}):
        if held.get((PENDING, currency), 0) != pending.get(currency, 0):
            breaches.append(f"account {PENDING}: holds {held.get((PENDING, currency), 0)} {currency}, "
                            f"but the pending payouts sum to {pending.get(currency, 0)}")
    return breaches


def export(directory):
    """Write one CSV statement per account into `directory`, and the index; returns the account count."""
    os.makedirs(directory, exist_ok=True)
    rows = Posting.with_sources().order_by(Posting.account, Posting.id).iterator()
    index = []
    for account, postings in itertools.groupby(rows, key=lambda p: p.account):
        name = file_name(account)
        balances = write_statement(os.path.join(directory, name), postings)
        # Account names start with their kind ("creator:"), so no cell can start a spreadsheet formula.
        index.extend((account, currency, amount, name) for currency, amount in sorted(balances.items()))
    with open(os.path.join(directory, "accounts.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["account", "currency", "balance_minor", "file"])
        writer.writerows(index)
    return len({row[0] for row in index})


def write_statement(path, postings):
    """One account's postings, oldest first, with the running balance; returns {currency: balance}."""
    running = {}
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["posting", "date", "reason", "donation", "video_id", "payout", "currency", "amount_minor",
                         "amount", "balance_minor"])
        for p in postings:
            running[p.currency] = running.get(p.currency, 0) + p.amount
            entry = p.as_entry()
            writer.writerow([p.id, entry["created"], p.reason, entry["donation"] or "", entry["video_id"] or "",
                             entry["payout"] or "", p.currency, p.amount,
                             major(p.amount, p.currency) if p.currency in CURRENCIES else "", running[p.currency]])
    return running


def file_name(account):
    """A safe, unique file name: the readable part of the account plus a hash of all of it."""
    digest = hashlib.sha256(account.encode()).hexdigest()[:10]
    return f"{SAFE.sub('_', account)[:80]}-{digest}.csv"
