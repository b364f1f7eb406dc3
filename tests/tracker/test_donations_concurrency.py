"""The ledger under load: 4 gunicorn workers, a few hundred concurrent donations with repeated keys,
on SQLite and on PostgreSQL; then `python -m tracker ledger check` and `export` on what they wrote."""
import csv
import os
import random
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import requests

from tests.actions import wait_for
from tests.servers import ROOT, start_tracker
from tests.edges import Edge

KEYS = 100  # distinct Idempotency-Keys
REPEATS = 3  # requests per key: 300 in all
MIXED = 20  # keys whose third request carries another body (one answer per key wins, the rest are 409)
THREADS = 24


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker(request, tmp_path):
    # The test's edges announce only once; a long interval keeps them live for the whole test.
    env = {"WEB_CONCURRENCY": "4", "TRACKER_ANNOUNCE_INTERVAL": "120"}
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    server = start_tracker(tmp_path / "tracker", **env)
    server.cli_env = {**os.environ, "SLIPSTREAM_DATA_DIR": server.data_dir, **env}
    yield server
    server.stop()


def publish_on(tracker, edges):
    """alice's video, placed on and registered by the first edge; the second edge holds a copy, audited
    by the tracker's auditor before this returns."""
    post = lambda path, body: requests.post(tracker.url + path, json=body, timeout=10)  # noqa: E731
    assert post("/api/v1/nodes/announce", edges[0].announce_doc()).status_code == 200
    placement = post("/api/v1/uploads", {"title": "Load", "size": 1000, "creator": "alice"})
    assert placement.status_code == 200, placement.text
    placement = placement.json()
    registered = post("/api/v1/videos", edges[0].registration_doc(placement["upload"], edges[0].make_package()))
    assert registered.status_code == 201, registered.text
    video = registered.json()["video_id"]
    edges[1].copy_from(edges[0], video)
    assert post("/api/v1/nodes/announce", edges[1].announce_doc()).status_code == 200
    sources = lambda: requests.get(f"{tracker.url}/api/v1/videos/{video}/sources", timeout=10).json()  # noqa: E731
    wait_for(lambda: len(sources()["sources"]) == 2, message="the second copy audited")
    return video


def requests_to_send(video, edges):
    rng = random.Random(7)
    sent = []
    for i in range(KEYS):
        body = {"video_id": video, "amount": rng.randint(1, 50_000), "currency": rng.choice(["EUR", "JPY"]),
                "served": {edges[0].id: rng.randint(0, 10 ** 9), edges[1].id: rng.randint(0, 10 ** 9)},
                "found_by": None}
        other = {**body, "amount": body["amount"] + 1}
        sent += [(f"key-{i}", body)] * (REPEATS - 1) + [(f"key-{i}", other if i < MIXED else body)]
    rng.shuffle(sent)
    return sent


def donate(tracker, key, body):
    answer = requests.post(tracker.url + "/api/v1/donations", json={**body, "found_by": tracker.url},
                           headers={"Idempotency-Key": key}, timeout=60)
    return key, body["amount"], answer.status_code, answer.json()


def statement(tracker, account):
    """Every entry of an account, page by page, and its balances."""
    entries, page = [], 1
    while True:
        answer = requests.get(f"{tracker.url}/api/v1/accounts/{account}", params={"page": page}, timeout=10).json()
        entries += answer["entries"]
        if len(entries) >= answer["total"] or page > 100:
            return answer["balances"], entries
        page += 1


def ledger(tracker, *args):
    return subprocess.run([sys.executable, "-m", "tracker", "ledger", *args], cwd=ROOT, env=tracker.cli_env,
                          capture_output=True, text=True, timeout=120)


def corrupt_one_posting(tracker):
    sql = "UPDATE posting SET amount = amount + 1 WHERE id = (SELECT MIN(id) FROM posting)"
    if "DATABASE_URL" in tracker.cli_env:
        with psycopg2.connect(tracker.cli_env["DATABASE_URL"]) as conn, conn.cursor() as cur:
            cur.execute(sql)
        conn.close()
    else:
        conn = sqlite3.connect(os.path.join(tracker.data_dir, "tracker.db"), timeout=10)
        with conn:
            conn.execute(sql)
        conn.close()


def test_concurrent_donations_with_repeated_keys_post_exactly_once(tracker, tmp_path):
    edges = [Edge(), Edge()]
    video = publish_on(tracker, edges)
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda sent: donate(tracker, *sent), requests_to_send(video, edges)))

    assert sorted({status for _, _, status, _ in results}) in ([201], [201, 409]), \
        [r for r in results if r[2] not in (201, 409)][:3]
    winners = {}
    for key, amount, status, answer in results:
        if status == 201:
            assert winners.setdefault(key, (amount, answer)) == (amount, answer), f"two answers for {key}"
        else:
            assert answer["error"] == "idempotency_key_reused"
    assert len(winners) == KEYS
    assert len({answer["donation"] for _, answer in winners.values()}) == KEYS

    expected = {}
    for _, answer in winners.values():
        for p in answer["postings"]:
            expected.setdefault(p["account"], {}).setdefault(p["currency"], 0)
            expected[p["account"]][p["currency"]] += p["amount"]
    for account, balances in expected.items():
        stored, entries = statement(tracker, account)
        assert stored == balances
        for currency in balances:
            assert sum(e["amount"] for e in entries if e["currency"] == currency) == balances[currency]
    assert len(statement(tracker, "donor:external")[1]) == KEYS

    log = tracker.logs()
    assert "database is locked" not in log and "Traceback" not in log

    checked = ledger(tracker, "check")
    assert checked.returncode == 0, checked.stderr
    assert f"{KEYS} donations: ledger sound" in checked.stdout
    exported = ledger(tracker, "export", str(tmp_path / "statements"))
    assert exported.returncode == 0, exported.stderr
    with open(tmp_path / "statements" / "accounts.csv", newline="") as f:
        index = list(csv.DictReader(f))
    assert {(row["account"], row["currency"]): int(row["balance_minor"]) for row in index} == {
        (account, currency): amount for account, balances in expected.items() for currency, amount in balances.items()}
    with open(tmp_path / "statements" / index[0]["file"], newline="") as f:
        assert len(list(csv.DictReader(f))) >= 1

    corrupt_one_posting(tracker)
    broken = ledger(tracker, "check")
    assert broken.returncode == 1
    assert "postings in" in broken.stderr and "sum to 1, not 0" in broken.stderr
    assert "stored" in broken.stderr and "balance" in broken.stderr
