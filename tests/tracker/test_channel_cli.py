"""`python -m tracker channel new|show|sign`: a key file only its owner reads, and envelopes the
tracker accepts."""
import json
import os
import stat

import pytest

from tests.tracker.actions import make_app
from tracker.__main__ import main


def run(capsys, *argv):
    with pytest.raises(SystemExit) as done:
        main(["channel", *argv])
    out = capsys.readouterr()
    return done.value.code, out.out.strip(), out.err


def test_new_show_and_sign_make_requests_the_tracker_accepts(tmp_path, capsys):
    key = str(tmp_path / "mine.key")
    status, channel_id, _ = run(capsys, "new", "--key", key)
    assert status == 0 and len(channel_id) == 64
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert run(capsys, "show", "--key", key)[:2] == (0, channel_id)
    status, envelope, _ = run(capsys, "sign", "--key", key, "channel", '{"name": "From a script"}')
    document = json.loads(envelope)
    assert status == 0 and document["payload"]["channel"] == channel_id
    assert document["payload"]["action"] == "channel"
    client = make_app(tmp_path / "tracker").test_client()
    answer = client.post("/api/v1/channels", json=document)
    assert answer.status_code == 201 and answer.json["name"] == "From a script"
    # Signed for an upload, the same fields are no channel update.
    _, upload, _ = run(capsys, "sign", "--key", key, "upload", '{"name": "From a script"}')
    assert client.post("/api/v1/channels", json=json.loads(upload)).json["error"] == "wrong_action"


def test_sign_needs_an_action_the_tracker_knows(tmp_path, capsys):
    key = str(tmp_path / "mine.key")
    run(capsys, "new", "--key", key)
    status, out, err = run(capsys, "sign", "--key", key, "anything", '{"name": "x"}')
    assert status == 2 and out == "" and "invalid choice" in err


def test_an_existing_key_is_never_overwritten(tmp_path, capsys):
    key = tmp_path / "mine.key"
    run(capsys, "new", "--key", str(key))
    before = key.read_bytes()
    status, _, err = run(capsys, "new", "--key", str(key))
    assert status == 1 and "not overwritten" in err and key.read_bytes() == before


@pytest.mark.parametrize("payload", ["not json", "[1, 2]"])
def test_sign_refuses_what_is_not_a_json_object(tmp_path, capsys, payload):
    key = str(tmp_path / "mine.key")
    run(capsys, "new", "--key", key)
    status, out, err = run(capsys, "sign", "--key", key, "edit", payload)
    assert status == 1 and out == "" and err


def test_a_missing_key_file_is_said_plainly(tmp_path, capsys):
    status, _, err = run(capsys, "show", "--key", str(tmp_path / "none.key"))
    assert status == 1 and "cannot read the key" in err
