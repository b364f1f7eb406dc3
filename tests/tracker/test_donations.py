"""The donation ledger's API through Flask's test client, on SQLite and on PostgreSQL."""
import uuid

import pytest

from tests.edges import Edge
from tests.tracker.actions import assert_error, audit_all, make_app, publish
from tracker.ledger.models import Balance, Donation, Posting

PEER = "https://peer-tracker.example"


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    config = {"TRACKER_PEERS": [PEER]}
    if request.param == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return make_app(tmp_path, **config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def edges(client):
    return [Edge(), Edge()]


@pytest.fixture
def video(app, client, edges):
    """A video by alice published on the first edge; the second edge holds an audited copy (it streams too)."""
    assert edges[0].announce(client).status_code == 200
    video_id = publish(client, edges[0], creator="alice")
    edges[1].copy_from(edges[0], video_id)
    assert edges[1].announce(client).status_code == 200
    audit_all(app)
    return video_id


def gift(video, edges, **changes):
    body = {"video_id": video, "amount": 1000, "currency": "EUR",
            "served": {edges[0].id: 600, edges[1].id: 100}, "found_by": "https://tracker.example"}
    return {**body, **changes}


def donate(client, body, key=None):
    return client.post("/api/v1/donations", json=body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def account(client, name, **query):
    return client.get(f"/api/v1/accounts/{name}", query_string=query)


def ledger_rows():
    return Donation.select().count(), Posting.select().count(), Balance.select().count()


def test_a_donation_is_split_into_postings_that_sum_to_zero(app, client, edges, video):
    answer = donate(client, gift(video, edges))
    assert answer.status_code == 201, answer.json
    tracker = "tracker:" + app.config["TRACKER_ID"]
    assert answer.json["postings"] == [
        {"account": "donor:external", "amount": -1000, "currency": "EUR"},
        {"account": "creator:alice", "amount": 900, "currency": "EUR"},
        *sorted([{"account": f"node:{edges[0].id}", "amount": 60, "currency": "EUR"},
                 {"account": f"node:{edges[1].id}", "amount": 10, "currency": "EUR"}],
                key=lambda p: p["account"]),
        {"account": tracker, "amount": 30, "currency": "EUR"},
    ]
    assert len(answer.json["donation"]) == 32
    statement = account(client, "creator:alice").json
    assert statement["balances"] == {"EUR": 900}
    assert [(e["donation"], e["amount"], e["video_id"]) for e in statement["entries"]] == [
        (answer.json["donation"], 900, video)]
    assert account(client, tracker).json["balances"] == {"EUR": 30}
    assert account(client, "donor:external").json["balances"] == {"EUR": -1000}


def test_same_key_and_body_returns_the_first_answer(client, edges, video):
    first = donate(client, gift(video, edges), key="k-1")
    again = donate(client, gift(video, edges), key="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ledger_rows()[0] == 1
    assert account(client, "creator:alice").json["balances"] == {"EUR": 900}


def test_same_key_with_another_body_is_a_409(client, edges, video):
    assert donate(client, gift(video, edges), key="k-2").status_code == 201
    before = ledger_rows()
    assert_error(donate(client, gift(video, edges, amount=999), key="k-2"), 409, "idempotency_key_reused")
    assert_error(donate(client, gift(video, edges, served={}), key="k-2"), 409, "idempotency_key_reused")
    assert ledger_rows() == before
    assert donate(client, gift(video, edges), key="k-2").status_code == 201
    assert donate(client, gift(video, edges, amount=0), key="k-3").status_code == 400
    metrics = client.get("/metrics").get_data(as_text=True)
    for result, count in [("recorded", 1), ("replayed", 1), ("conflict", 2), ("refused", 1)]:
        assert f'tracker_donations_total{{result="{result}"}} {count}.0' in metrics


def test_no_bytes_served_gives_the_edges_share_to_the_creator(client, edges, video):
    answer = donate(client, gift(video, edges, served={}, amount=500, currency="JPY"))
    assert [(p["account"].split(":")[0], p["amount"]) for p in answer.json["postings"]] == [
        ("donor", -500), ("creator", 485), ("tracker", 15)]


def test_a_peer_tracker_that_found_the_edges_gets_its_own_account(client, edges, video):
    answer = donate(client, gift(video, edges, found_by=PEER + "/"))
    assert answer.json["postings"][-1] == {"account": f"tracker:{PEER}", "amount": 30, "currency": "EUR"}
    # The account name holds "//": the route must not merge slashes, and %-encoding works too.
    assert account(client, f"tracker:{PEER}").json["balances"] == {"EUR": 30}
    assert client.get("/api/v1/accounts/tracker%3Ahttps%3A%2F%2Fpeer-tracker.example").json["balances"] == {"EUR": 30}


@pytest.mark.parametrize("changes, status, code", [
    ({"video_id": "0" * 40}, 404, "unknown_video"),
    ({"video_id": "nope"}, 400, "invalid_video_id"),
    ({"amount": 0}, 400, "invalid_amount"),
    ({"amount": -5}, 400, "invalid_amount"),
    ({"amount": 10.5}, 400, "invalid_amount"),
    ({"amount": "1000"}, 400, "invalid_amount"),
    ({"amount": True}, 400, "invalid_amount"),
    ({"amount": 100_000_001}, 400, "invalid_amount"),
    ({"amount": 10 ** 30}, 400, "invalid_amount"),
    ({"currency": "XYZ"}, 400, "unknown_currency"),
    ({"currency": "eur"}, 400, "unknown_currency"),
    ({"currency": None}, 400, "unknown_currency"),
    ({"served": {"e" * 64: 10}}, 404, "unknown_node"),
    ({"served": {"not-a-node": 10}}, 400, "invalid_served"),
    ({"served": {"E" * 64: 10}}, 400, "invalid_served"),
    ({"served": [1, 2]}, 400, "invalid_served"),
    ({"served": []}, 400, "invalid_served"),
    ({"served": ""}, 400, "invalid_served"),
    ({"currency": ["EUR"]}, 400, "unknown_currency"),
    ({"found_by": "https://stranger.example"}, 422, "unknown_tracker"),
    ({"found_by": 7}, 400, "invalid_found_by"),
    ({"found_by": "http://[oops"}, 400, "invalid_found_by"),
])
def test_bad_donations_are_refused_and_nothing_is_written(client, edges, video, changes, status, code):
    before = ledger_rows()
    assert_error(donate(client, gift(video, edges, **changes)), status, code)
    assert ledger_rows() == before


def test_bad_served_bytes_are_refused(client, edges, video):
    for count in (-1, 1.5, "10", None, 2 ** 60):
        assert_error(donate(client, gift(video, edges, served={edges[0].id: count})), 400, "invalid_served")
    assert ledger_rows() == (0, 0, 0)


def test_an_integer_written_as_a_float_is_that_integer(client, edges, video):
    """JSON has one kind of number (and JSON Schema's "integer" takes 500.0): 500.0 is 500, the same gift."""
    body = gift(video, edges)
    first = donate(client, body, key="same")
    again = donate(client, {**body, "amount": float(body["amount"]),
                            "served": {node: float(n) for node, n in body["served"].items()}}, key="same")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json


@pytest.mark.parametrize("headers, code", [
    ({}, "missing_idempotency_key"),
    ({"Idempotency-Key": ""}, "invalid_idempotency_key"),
    ({"Idempotency-Key": "k" * 256}, "invalid_idempotency_key"),
])
def test_a_donation_needs_a_good_idempotency_key(client, edges, video, headers, code):
    assert_error(client.post("/api/v1/donations", json=gift(video, edges), headers=headers), 400, code)
    assert ledger_rows() == (0, 0, 0)


def test_a_node_the_ledger_credited_stays_known_after_the_tracker_forgets_it(client, edges, video):
    from tracker.nodes.models import Copy, Node

    assert donate(client, gift(video, edges)).status_code == 201
    Copy.delete().execute()
    Node.delete().execute()
    assert donate(client, gift(video, edges)).status_code == 201


def test_account_statement_is_paginated_newest_first(client, edges, video):
    ids = [donate(client, gift(video, edges, amount=100 + i)).json["donation"] for i in range(55)]
    first, second = account(client, "creator:alice").json, account(client, "creator:alice", page=2).json
    assert (first["total"], first["per_page"], len(first["entries"]), len(second["entries"])) == (55, 50, 50, 5)
    assert [e["donation"] for e in first["entries"] + second["entries"]] == ids[::-1]
    assert first["balances"]["EUR"] == sum(e["amount"] for e in first["entries"] + second["entries"])
    assert account(client, "creator:alice", page=3).json["entries"] == []


@pytest.mark.parametrize("name, query, status, code", [
    ("creator:bob", {}, 404, "unknown_account"),
    ("node:" + "f" * 64, {}, 404, "unknown_account"),
    ("savings:alice", {}, 400, "invalid_account"),
    ("creator:alice", {"page": "0"}, 400, "invalid_page"),
    ("creator:alice", {"page": "x"}, 400, "invalid_page"),
])
def test_bad_account_reads(client, edges, video, name, query, status, code):
    assert donate(client, gift(video, edges)).status_code == 201
    assert_error(account(client, name, **query), status, code)


def test_split_preview_writes_nothing_and_matches_the_donation(client, edges, video):
    served = f"{edges[0].id}:600,{edges[1].id}:100"
    preview = client.get("/api/v1/donations/split", query_string={
        "video_id": video, "amount": "1000", "currency": "EUR", "served": served})
    assert preview.status_code == 200, preview.json
    assert (preview.json["exponent"], preview.json["creator"], preview.json["amount"]) == (2, "alice", 1000)
    assert ledger_rows() == (0, 0, 0)
    assert preview.json["postings"] == donate(client, gift(video, edges)).json["postings"]
    for query, code in [({"amount": "-1"}, "invalid_amount"), ({"amount": "²"}, "invalid_amount"),
                        ({"served": "abc"}, "invalid_served"), ({"served": f"{edges[0].id}:x"}, "invalid_served")]:
        refused = client.get("/api/v1/donations/split",
                             query_string={"video_id": video, "amount": "5", "currency": "EUR", **query})
        assert_error(refused, 400, code)


def test_the_split_is_configuration(tmp_path, edges=None):
    app = make_app(tmp_path, TRACKER_SPLIT={"creator": 80, "edges": 0, "tracker": 20})
    client = app.test_client()
    edge = Edge()
    edge.announce(client)
    video = publish(client, edge)
    answer = donate(client, {"video_id": video, "amount": 999, "currency": "EUR", "served": {edge.id: 5}})
    assert [p["amount"] for p in answer.json["postings"]] == [-999, 799, 200]


def test_a_key_committed_by_a_racing_writer_is_answered_as_a_repeat(client, edges, video, monkeypatch):
    """The unique constraint backs the lock: a writer that missed the key in its lookup loses cleanly."""
    first = donate(client, gift(video, edges), key="raced")
    monkeypatch.setattr(Donation, "get_or_none", classmethod(lambda cls, *query: None))
    again = donate(client, gift(video, edges), key="raced")
    assert (again.status_code, again.json) == (201, first.json)
    assert_error(donate(client, gift(video, edges, amount=1), key="raced"), 409, "idempotency_key_reused")
    assert ledger_rows() == (1, 5, 5)


def test_ledger_check_names_each_kind_of_breach(app, client, edges, video):
    from tracker.db import database
    from tracker.ledger.audit import check

    first = donate(client, gift(video, edges)).json["donation"]
    second = donate(client, gift(video, edges, currency="JPY")).json["donation"]
    database.initialize(app.extensions["tracker.db"])
    with database.connection_context():
        assert check() == []
        Balance.update(amount=Balance.amount + 1).where(Balance.account == "creator:alice",
                                                        Balance.currency == "EUR").execute()
        Posting.update(amount=Posting.amount - 1).where(Posting.donation == second,
                                                        Posting.account == "creator:alice").execute()
        Posting.update(currency="USD").where(Posting.donation == first, Posting.account == "creator:alice").execute()
        breaches = check()
    assert f"donation {second}: postings in JPY sum to -1, not 0" in breaches
    assert f"donation {first}: postings in another currency than its EUR" in breaches
    assert "account creator:alice: stored EUR balance 901, postings sum to 0" in breaches
    assert "account creator:alice: stored USD balance missing, postings sum to 900" in breaches


def test_donation_api_is_described_and_open_to_other_websites(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/donations", "/api/v1/donations/split", "/api/v1/accounts/{account}"} <= set(paths)
    preflight = client.options("/api/v1/donations", headers={
        "Origin": "https://site.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, idempotency-key"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "idempotency-key" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_split_setting_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_SPLIT", "creator=85,edges=10,tracker=5")
    assert make_app(tmp_path).config["TRACKER_SPLIT"] == {"creator": 85, "edges": 10, "tracker": 5}
    monkeypatch.setenv("TRACKER_SPLIT", "creator=85,edges=-10")
    with pytest.raises(ValueError, match="TRACKER_SPLIT"):
        make_app(tmp_path)


def test_export_writes_a_statement_per_account_with_running_balances(app, client, edges, tmp_path):
    import csv

    from tracker.db import database
    from tracker.ledger.audit import export

    assert edges[0].announce(client).status_code == 200
    video = publish(client, edges[0], creator="../=odd name")
    for amount, currency in [(1000, "EUR"), (500, "EUR"), (300, "JPY")]:
        assert donate(client, {"video_id": video, "amount": amount, "currency": currency}).status_code == 201
    database.initialize(app.extensions["tracker.db"])
    with database.connection_context():
        assert export(str(tmp_path / "out")) == 3  # donor, creator, this tracker
    with open(tmp_path / "out" / "accounts.csv", newline="") as f:
        index = {(row["account"], row["currency"]): row for row in csv.DictReader(f)}
    creator = index[("creator:../=odd name", "EUR")]
    assert creator["balance_minor"] == "1455" and index[("donor:external", "JPY")]["balance_minor"] == "-300"
    with open(tmp_path / "out" / creator["file"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["currency"], r["amount_minor"], r["amount"], r["balance_minor"]) for r in rows] == [
        ("EUR", "970", "9.70", "970"), ("EUR", "485", "4.85", "1455"), ("JPY", "291", "291", "291")]
    assert "/" not in creator["file"] and creator["file"].endswith(".csv")


def test_ledger_check_refuses_a_data_dir_without_a_tracker(tmp_path):
    import os
    import subprocess
    import sys

    from tests.servers import ROOT

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    checked = subprocess.run([sys.executable, "-m", "tracker", "ledger", "check"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60, env={**env, "SLIPSTREAM_DATA_DIR": str(tmp_path / "typo")})
    assert checked.returncode == 2 and "no tracker database" in checked.stderr
    assert not (tmp_path / "typo").exists()
