"""Payouts through Flask's test client, on SQLite and on PostgreSQL: a channel's or a node's key claims
its balance, the operator pays or rejects, and the ledger stays balanced through every step."""
import time

import pytest

from protocol.signing import sign
from tests.channels import ChannelKey
from tests.edges import Edge
from tests.tracker.actions import assert_error, audit_all, credit, make_app, publish
from tracker.db import database
from tracker.ledger.audit import check
from tracker.ledger.models import DONOR, Donation, Payout, Posting

TOKEN = "operator-secret"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def tracker_config():
    return {"TRACKER_ADMIN_TOKEN": TOKEN}


def breaches(app):
    database.initialize(app.extensions["tracker.db"])
    with database.connection_context():
        return check()


def balance(client, account, currency="EUR"):
    return client.get(f"/api/v1/accounts/{account}").json["balances"].get(currency, 0)


def request_payout(client, document):
    return client.post("/api/v1/payouts", json=document)


def decide(client, payout, headers=ADMIN, **body):
    return client.post(f"/api/v1/admin/payouts/{payout}", json=body, headers=headers)


@pytest.fixture
def channel(app):
    owner = ChannelKey()
    credit(app, owner.account, 1000)
    return owner


def test_a_channel_claims_part_of_its_balance_into_pending(app, client, channel):
    answer = request_payout(client, channel.claim(amount=400))
    assert answer.status_code == 201, answer.json
    assert answer.json["state"] == "pending" and answer.json["account"] == channel.account
    assert balance(client, channel.account) == 600
    assert balance(client, "payouts:pending") == 400
    entries = client.get(f"/api/v1/accounts/{channel.account}").json["entries"]
    assert [(e["reason"], e["amount"], e["payout"]) for e in entries] == [
        ("payout_requested", -400, answer.json["payout"]), ("donation", 1000, None)]
    assert breaches(app) == []


def test_the_operator_lists_pending_payouts(client, channel):
    payout = request_payout(client, channel.claim(amount=300, destination="ln:alice@example.org")).json["payout"]
    listing = client.get("/api/v1/admin/payouts", query_string={"state": "pending"}, headers=ADMIN)
    assert listing.status_code == 200
    assert [(p["payout"], p["account"], p["amount"], p["destination"]) for p in listing.json["payouts"]] == [
        (payout, channel.account, 300, "ln:alice@example.org")]
    assert client.get("/api/v1/admin/payouts", query_string={"state": "paid"}, headers=ADMIN).json["payouts"] == []


def test_paid_moves_the_money_out_and_keeps_the_ledger_balanced(app, client, channel):
    payout = request_payout(client, channel.claim(amount=400)).json["payout"]
    answer = decide(client, payout, state="paid", reference="SEPA 2026-12-02 #77")
    assert answer.status_code == 200, answer.json
    assert answer.json["state"] == "paid" and answer.json["reference"] == "SEPA 2026-12-02 #77"
    assert balance(client, "payouts:pending") == 0 and balance(client, "payouts:paid") == 400
    assert balance(client, channel.account) == 600
    assert breaches(app) == []


def test_rejected_gives_the_money_back_and_keeps_the_ledger_balanced(app, client, channel):
    payout = request_payout(client, channel.claim(amount=400)).json["payout"]
    answer = decide(client, payout, state="rejected", reason="destination is not an IBAN")
    assert answer.status_code == 200 and answer.json["reason"] == "destination is not an IBAN"
    assert balance(client, channel.account) == 1000 and balance(client, "payouts:pending") == 0
    reasons = [e["reason"] for e in client.get(f"/api/v1/accounts/{channel.account}").json["entries"]]
    assert reasons == ["payout_rejected", "payout_requested", "donation"]
    assert breaches(app) == []


@pytest.mark.parametrize("first", ["paid", "rejected"])
@pytest.mark.parametrize("second", ["paid", "rejected"])
def test_a_payout_is_decided_once(app, client, channel, first, second):
    payout = request_payout(client, channel.claim(amount=400)).json["payout"]
    assert decide(client, payout, state=first, reference="r1", reason="r1").status_code == 200
    before = Posting.select().count()
    assert_error(decide(client, payout, state=second, reference="r2", reason="r2"), 409, "already_decided")
    assert Posting.select().count() == before
    assert balance(client, channel.account) == (600 if first == "paid" else 1000)
    assert breaches(app) == []


def test_more_than_the_balance_is_insufficient_funds(app, client, channel):
    assert_error(request_payout(client, channel.claim(amount=1001)), 422, "insufficient_funds")
    assert_error(request_payout(client, channel.claim(amount=10, currency="USD")), 422, "insufficient_funds")
    assert_error(request_payout(client, ChannelKey().claim(amount=1)), 422, "insufficient_funds")
    assert Payout.select().count() == 0
    # The whole balance may be claimed, but not twice.
    assert request_payout(client, channel.claim(amount=1000)).status_code == 201
    assert_error(request_payout(client, channel.claim(amount=1)), 422, "insufficient_funds")


def test_a_replayed_claim_is_refused(client, channel):
    document = channel.claim(amount=100)
    assert request_payout(client, document).status_code == 201
    assert_error(request_payout(client, document), 400, "replayed")
    older = channel.claim(amount=100, timestamp=channel.last - 10)
    assert_error(request_payout(client, older), 400, "replayed")
    assert balance(client, channel.account) == 900


def test_a_refused_claim_does_not_use_up_its_timestamp(client, channel):
    """The replay mark moves inside the claim's transaction: a claim refused for funds can be fixed and sent."""
    stamp = time.time() + 1
    assert_error(request_payout(client, channel.claim(amount=5000, timestamp=stamp)), 422, "insufficient_funds")
    assert request_payout(client, channel.claim(amount=50, timestamp=stamp)).status_code == 201


def test_forged_and_foreign_signatures_are_403(client, channel):
    forged = channel.claim(amount=100)
    forged["payload"]["amount"] = 900  # changed after signing
    assert_error(request_payout(client, forged), 403, "bad_signature")
    thief = ChannelKey()
    foreign = sign({**thief.claim(amount=100)["payload"], "channel": channel.id}, thief.key)
    assert_error(request_payout(client, foreign), 403, "bad_signature")
    assert balance(client, channel.account) == 1000


@pytest.mark.parametrize("action", ["upload", "channel", "edit", None])
def test_a_document_for_another_action_is_no_claim(client, channel, action):
    """Money moves only on a document its key signed as a payout claim."""
    claim = channel.claim(amount=100)
    payload = {name: value for name, value in claim["payload"].items() if name != "action"}
    other = sign({**payload, **({"action": action} if action else {})}, channel.key)
    assert_error(request_payout(client, other), 400, "wrong_action")
    assert balance(client, channel.account) == 1000 and Payout.select().count() == 0
    assert request_payout(client, claim).status_code == 201  # the refusal spent no timestamp


@pytest.mark.parametrize("changes, code", [
    ({"amount": 0}, "invalid_amount"), ({"amount": "100"}, "invalid_amount"), ({"currency": "XXX"}, "unknown_currency"),
    ({"destination": ""}, "invalid_destination"), ({"destination": "x" * 201}, "invalid_destination"),
    ({"timestamp": 1}, "stale_timestamp")])
def test_bad_claims_are_400(client, channel, changes, code):
    assert_error(request_payout(client, channel.claim(**changes)), 400, code)
    assert Payout.select().count() == 0


def test_a_node_claims_its_share_of_donations(app, client):
    edge = Edge()
    assert edge.announce(client).status_code == 200
    video = publish(client, edge, creator="alice")
    audit_all(app)
    gift = {"video_id": video, "amount": 1000, "currency": "EUR", "served": {edge.id: 5000}}
    assert client.post("/api/v1/donations", json=gift, headers={"Idempotency-Key": "g1"}).status_code == 201
    node = ChannelKey(edge.key, signer="node")
    earned = balance(client, node.account)
    assert earned > 0
    answer = request_payout(client, node.claim(amount=earned))
    assert answer.status_code == 201 and answer.json["account"] == node.account
    assert_error(request_payout(client, node.claim(amount=1)), 422, "insufficient_funds")
    # The node's announces keep their own replay mark: a payout claim does not block the next announce.
    assert edge.announce(client).status_code == 200
    assert decide(client, answer.json["payout"], state="paid", reference="PayPal 9X").status_code == 200
    assert breaches(app) == []


def test_a_channel_claims_what_donations_to_its_videos_earned(app, client):
    """The whole way: a signed placement, a donation to the video credits channel:<id>, its key claims it."""
    edge, channel = Edge(), ChannelKey()
    assert edge.announce(client).status_code == 200
    placement = client.post("/api/v1/uploads", json=channel.placement("Worth it"))
    assert placement.status_code == 200, placement.json
    video = edge.register(client, placement.json["upload"]).json["video_id"]
    gift = {"video_id": video, "amount": 1000, "currency": "EUR"}
    assert client.post("/api/v1/donations", json=gift, headers={"Idempotency-Key": "g1"}).status_code == 201
    earned = balance(client, channel.account)
    assert earned > 0
    assert_error(request_payout(client, channel.claim(amount=earned + 1)), 422, "insufficient_funds")
    payout = request_payout(client, channel.claim(amount=earned))
    assert payout.status_code == 201 and payout.json["account"] == channel.account
    assert decide(client, payout.json["payout"], state="paid", reference="SEPA #1").status_code == 200
    assert balance(client, channel.account) == 0 and balance(client, "payouts:paid") == earned
    assert breaches(app) == []


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "unauthorized"), ({"Authorization": "Bearer wrong"}, 403, "forbidden")])
def test_the_operator_routes_need_the_token(client, channel, headers, status, code):
    payout = request_payout(client, channel.claim()).json["payout"]
    assert_error(client.get("/api/v1/admin/payouts", headers=headers), status, code)
    assert_error(decide(client, payout, headers=headers, state="paid", reference="x"), status, code)
    assert Payout.get_by_id(payout).state == "pending"


def test_without_a_token_the_operator_api_is_off(tmp_path):
    client = make_app(tmp_path).test_client()
    assert_error(client.get("/api/v1/admin/payouts", headers=ADMIN), 403, "operator_api_off")


@pytest.mark.parametrize("body, code", [
    ({"state": "pending"}, "invalid_state"), ({"state": "paid"}, "invalid_reference"),
    ({"state": "rejected", "reason": " "}, "invalid_reason")])
def test_bad_decisions_are_400(client, channel, body, code):
    payout = request_payout(client, channel.claim()).json["payout"]
    assert_error(decide(client, payout, **body), 400, code)
    assert_error(decide(client, "nope", state="paid", reference="x"), 404, "unknown_payout")


def test_ledger_check_finds_a_payout_without_its_postings(app, client, channel):
    payout = request_payout(client, channel.claim(amount=400)).json["payout"]
    database.initialize(app.extensions["tracker.db"])
    with database.connection_context():
        Payout.update(state="paid").where(Payout.id == payout).execute()
        found = check()
    assert f"payout {payout}: paid, but its postings are ['payout_requested']" in found
    assert "account payouts:pending: holds 400 EUR, but the pending payouts sum to 0" in found


def test_a_ledger_from_before_payouts_is_upgraded_in_place(tmp_path):
    """A tracker's posting table made before payouts (donation required, no payout or reason) takes
    payouts after a restart, and its old postings read as donations."""
    old = make_app(tmp_path)
    database.initialize(old.extensions["tracker.db"])
    with database.connection_context():
        database.execute_sql("DROP TABLE posting")
        database.execute_sql("CREATE TABLE posting (id INTEGER PRIMARY KEY, donation_id VARCHAR(32) NOT NULL "
                             "REFERENCES donation (id), account VARCHAR(300) NOT NULL, currency VARCHAR(3) NOT NULL, "
                             "amount BIGINT NOT NULL)")
        channel = ChannelKey()
        Donation.create(id="d1", key="k1", fingerprint="f", video="0" * 40, amount=500, currency="EUR",
                        tracker="tracker:test", created=time.time())
        database.execute_sql("INSERT INTO posting (donation_id, account, currency, amount) VALUES "
                             "('d1', ?, 'EUR', -500), ('d1', ?, 'EUR', 500)", (DONOR, channel.account))
        database.execute_sql("INSERT INTO balance (account, currency, amount) VALUES (?, 'EUR', -500), "
                             "(?, 'EUR', 500)", (DONOR, channel.account))
    client = make_app(tmp_path).test_client()
    assert request_payout(client, channel.claim(amount=200)).status_code == 201
    entries = client.get(f"/api/v1/accounts/{channel.account}").json["entries"]
    assert [(e["reason"], e["amount"]) for e in entries] == [("payout_requested", -200), ("donation", 500)]


def test_the_export_explains_payouts_too(app, client, channel, tmp_path):
    import csv

    from tracker.ledger.audit import export

    payout = request_payout(client, channel.claim(amount=400)).json["payout"]
    decide(client, payout, state="rejected", reason="unknown IBAN")
    database.initialize(app.extensions["tracker.db"])
    with database.connection_context():
        export(str(tmp_path / "out"))
    with open(tmp_path / "out" / "accounts.csv", newline="") as f:
        files = {row["account"]: row["file"] for row in csv.DictReader(f)}
    assert set(files) >= {channel.account, "payouts:pending", DONOR}
    with open(tmp_path / "out" / files[channel.account], newline="") as f:
        rows = [(r["reason"], r["payout"], r["amount_minor"], r["balance_minor"]) for r in csv.DictReader(f)]
    assert rows == [("donation", "", "1000", "1000"), ("payout_requested", payout, "-400", "600"),
                    ("payout_rejected", payout, "400", "1000")]
