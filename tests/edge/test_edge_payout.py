"""`python -m edge payout`: the node claims its share of donations from a real tracker, signed by its key."""
import json

import pytest

from tests.servers import start_tracker
from tests.tracker.actions import credit, make_app


@pytest.fixture
def real_tracker(tmp_path):
    server = start_tracker(tmp_path / "tracker")
    yield server
    server.stop()


def test_the_node_claims_its_balance_from_its_trackers(node, real_tracker, monkeypatch, capsys):
    from edge.__main__ import main

    monkeypatch.setenv("SLIPSTREAM_DATA_DIR", node.data_dir)
    monkeypatch.setenv("EDGE_TRACKER_URL", real_tracker.url)
    claim = ["payout", "--amount", "300", "--currency", "EUR", "--destination", "DE02 1203 0000 0000 2020 51"]
    assert main(claim) == 1
    assert "422" in capsys.readouterr().err
    credit(make_app(real_tracker.data_dir), f"node:{node.id}", 1000)
    assert main(claim) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["tracker"] == real_tracker.url and answer["state"] == "pending"
    assert answer["account"] == f"node:{node.id}"
    # --tracker picks one; an unreachable one is an error, not a crash.
    assert main([*claim, "--tracker", "http://127.0.0.1:9"]) == 1
    assert "unreachable" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["payout", "--amount", "300"])
