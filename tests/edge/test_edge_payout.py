"""`python -m edge payout`: the node claims its share of donations from a real tracker, signed by its key."""
import json
import time
import uuid

import pytest

from tests.servers import start_tracker
from tests.tracker.actions import make_app
from tracker.db import database
from tracker.ledger.models import DONOR, Donation


@pytest.fixture
def real_tracker(tmp_path):
    server = start_tracker(tmp_path / "tracker")
    yield server
    server.stop()


def credit(data_dir, account, amount):
    """Money for `account` in the running tracker's ledger, posted through the ledger's own code."""
    app = make_app(data_dir)
    database.initialize(app.extensions["tracker.db"])
    with database.connection_context():
        gift = {"video_id": "0" * 40, "amount": amount, "currency": "EUR", "tracker": "tracker:test"}
        Donation.record(uuid.uuid4().hex, gift, [(DONOR, -amount), (account, amount)], [], time.time())


def test_the_node_claims_its_balance_from_its_trackers(node, real_tracker, monkeypatch, capsys):
    from edge.__main__ import main

    monkeypatch.setenv("SLIPSTREAM_DATA_DIR", node.data_dir)
    monkeypatch.setenv("EDGE_TRACKER_URL", real_tracker.url)
    claim = ["payout", "--amount", "300", "--currency", "EUR", "--destination", "DE02 1203 0000 0000 2020 51"]
    assert main(claim) == 1
    assert "422" in capsys.readouterr().err
    credit(real_tracker.data_dir, f"node:{node.id}", 1000)
    assert main(claim) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["tracker"] == real_tracker.url and answer["state"] == "pending"
    assert answer["account"] == f"node:{node.id}"
    # --tracker picks one; an unreachable one is an error, not a crash.
    assert main([*claim, "--tracker", "http://127.0.0.1:9"]) == 1
    assert "unreachable" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["payout", "--amount", "300"])
