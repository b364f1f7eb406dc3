"""Payout claims at once against 4 gunicorn workers, on SQLite and on PostgreSQL: one signed claim sent
many times pays once, and claims racing for one balance never overdraw it."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.channels import ChannelKey
from tests.servers import start_tracker
from tests.tracker.actions import credit, make_app
from tracker.db import database
from tracker.ledger.audit import check

THREADS = 12


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker(request, tmp_path):
    env = {"WEB_CONCURRENCY": "4"}
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    server = start_tracker(tmp_path / "tracker", **env)
    # The same ledger in this process, to credit the channel and to check it afterwards.
    server.ledger = make_app(tmp_path / "tracker", **{k: v for k, v in env.items() if k == "DATABASE_URL"})
    yield server
    server.stop()


def send_all(tracker, documents):
    with ThreadPoolExecutor(THREADS) as pool:
        answers = pool.map(lambda d: requests.post(f"{tracker.url}/api/v1/payouts", json=d, timeout=30), documents)
        return [(a.status_code, a.json().get("error")) for a in answers]


def balance(tracker, account):
    return requests.get(f"{tracker.url}/api/v1/accounts/{account}", timeout=10).json()["balances"]["EUR"]


def test_racing_claims_pay_once_and_never_overdraw(tracker):
    channel = ChannelKey()
    credit(tracker.ledger, channel.account, 1000)
    document = channel.claim(amount=100)
    answers = send_all(tracker, [document] * THREADS)
    assert answers.count((201, None)) == 1, answers
    assert set(answers) == {(201, None), (400, "replayed")}
    # Claims of 300 with fresh timestamps, at once: 900 is all the 900 left allows; an older
    # timestamp landing after a newer one is a replay, so fewer may pass, but never more.
    answers = send_all(tracker, [channel.claim(amount=300) for _ in range(THREADS)])
    paid = answers.count((201, None))
    assert 1 <= paid <= 3 and set(answers) <= {(201, None), (400, "replayed"), (422, "insufficient_funds")}, answers
    assert balance(tracker, channel.account) == 900 - 300 * paid >= 0
    assert balance(tracker, "payouts:pending") == 100 + 300 * paid
    database.initialize(tracker.ledger.extensions["tracker.db"])
    with database.connection_context():
        assert check() == []
