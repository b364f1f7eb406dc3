"""The edge's half of "trust nothing a node says" (issue 13): each attack on an edge fails, and honest
use still works. URL proofs, the pinned tracker key, no byte of a file before a valid ticket, and
capacity bounded by the real free disk."""
import base64
import io
import logging
import os

import nacl.signing
import pytest

from edge import create_app
from edge import uploads as form_uploads
from edge.announcer import announce
from edge.config import load
from edge.models import db
from edge.receive import CHUNK
from edge.trackerkey import TrackerKeyMismatch
from edge.upstream import TrackerError
from protocol.errors import BadSignature
from protocol.proofs import check_proof, new_challenge
from protocol.signing import node_id
from tests.edge.faketracker import TRACKER_ID, make_ticket
from tests.edge.uploads import nothing_stored, send

OTHER_KEY = nacl.signing.SigningKey.generate()
OTHER_ID = node_id(OTHER_KEY)
BOUNDARY = "slipstream-boundary"


def edge_app(tmp_path, tracker, **config):
    """Another edge than the `app` fixture's, with other settings; the fake tracker as new."""
    tracker.announces.clear()
    tracker.tasks, tracker.key = [], TRACKER_ID
    return create_app({"SLIPSTREAM_DATA_DIR": str(tmp_path / "other-edge"), "SLIPSTREAM_PUBLIC_URL": "http://edge.test",
                       "EDGE_TRACKER_URL": tracker.url, "EDGE_CAPACITY": "10MB", "EDGE_MAX_UPLOAD": "1MB",
                       "EDGE_BACKGROUND": False, **config})


# 1. URL proofs: the tracker's challenge is answered only for this edge's URL and its tracker.


def challenge(url="http://edge.test", tracker_id=TRACKER_ID):
    return {"challenge": new_challenge(), "tracker": tracker_id, "url": url}


def test_the_edge_proves_its_url_to_a_tracker_before_any_key_is_pinned(client, node):
    body = challenge(tracker_id=OTHER_ID)  # the very first announce's proof: no key pinned yet
    answer = client.post("/api/v1/proof", json=body)
    assert answer.status_code == 200, answer.json
    check_proof(answer.json, body["challenge"], OTHER_ID, "http://edge.test", node.id)
    with pytest.raises(BadSignature):  # the answer vouches for nothing else
        check_proof(answer.json, new_challenge(), OTHER_ID, "http://edge.test", node.id)


@pytest.mark.parametrize("url", ["http://EDGE.test", "http://edge.test/"])
def test_the_tracker_may_write_the_url_as_it_normalises_it(client, node, url):
    body = challenge(url=url)
    answer = client.post("/api/v1/proof", json=body)
    assert answer.status_code == 200
    check_proof(answer.json, body["challenge"], TRACKER_ID, url, node.id)


@pytest.mark.parametrize("url", ["http://honest-edge.example", "https://edge.test", "http://edge.test:8080",
                                 "http://edge.test/other", "http://edge.test?x=1", "edge.test", ""])
def test_no_proof_for_another_url(client, url):
    answer = client.post("/api/v1/proof", json=challenge(url=url))
    assert (answer.status_code, answer.json["error"]) == (403, "wrong_url")


def test_once_a_key_is_pinned_only_that_tracker_gets_a_proof(client, node):
    announce(node, node.tracker_pin)  # pins the fake tracker's key
    refused = client.post("/api/v1/proof", json=challenge(tracker_id=OTHER_ID))
    assert (refused.status_code, refused.json["error"]) == (403, "wrong_tracker")
    assert client.post("/api/v1/proof", json=challenge()).status_code == 200


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'"text"', b"{}", b"[" * 4000 + b"]" * 4000,
    {"challenge": "c" * 64, "tracker": TRACKER_ID},
    {"challenge": "c" * 64, "tracker": TRACKER_ID, "url": "http://edge.test", "node": "x"},
    {"challenge": "C" * 64, "tracker": TRACKER_ID, "url": "http://edge.test"},
    {"challenge": "c" * 63, "tracker": TRACKER_ID, "url": "http://edge.test"},
    {"challenge": "c" * 64 + "\n", "tracker": TRACKER_ID, "url": "http://edge.test"},
    {"challenge": "c" * 64, "tracker": "not a key", "url": "http://edge.test"},
    {"challenge": "c" * 64, "tracker": TRACKER_ID, "url": ["http://edge.test"]},
    {"challenge": 7, "tracker": TRACKER_ID, "url": "http://edge.test"},
])
def test_a_malformed_challenge_is_400(client, body):
    if isinstance(body, dict):
        answer = client.post("/api/v1/proof", json=body)
    else:
        answer = client.post("/api/v1/proof", data=body, content_type="application/json")
    assert (answer.status_code, answer.json["error"]) == (400, "bad_challenge")
    assert set(answer.json) == {"error", "message"}


def test_a_challenge_in_another_type_or_too_large_is_refused(client):
    text = client.post("/api/v1/proof", data=str(challenge()), content_type="text/plain")
    assert (text.status_code, text.json["error"]) == (400, "bad_challenge")
    huge = client.post("/api/v1/proof", json={**challenge(), "url": "x" * 100_000})
    assert (huge.status_code, huge.json["error"]) == (413, "too_large")


# 2. The tracker's key is pinned: a changed key is refused loudly, never taken.


def test_the_first_key_is_pinned_and_a_changed_one_refused_loudly(client, node, tracker, caplog):
    announce(node, node.tracker_pin)
    assert node.tracker_key() == TRACKER_ID
    tracker.key, tracker.tasks = OTHER_ID, [{"action": "delete", "video_id": "ab" * 20}]
    handed = []
    with caplog.at_level(logging.ERROR, logger="edge.trackerkey"), pytest.raises(TrackerKeyMismatch):
        announce(node, node.tracker_pin, on_tasks=lambda tasks, _tracker: handed.append(tasks))
    assert handed == []  # nothing in the impostor's answer is acted on
    assert any(record.levelno == logging.ERROR and OTHER_ID in record.getMessage() for record in caplog.records)
    assert node.tracker_key() == TRACKER_ID  # never replaced automatically
    status = client.get("/api/v1/status").json
    assert status["tracker"] == TRACKER_ID
    assert status["tracker_key"] == {"pinned": TRACKER_ID, "seen": OTHER_ID, "mismatch": True, "reach": None}
    assert f'edge_tracker_key_mismatch{{tracker="{node.tracker_pin.url}"}} 1.0' in client.get("/metrics").get_data(as_text=True)
    # Tickets are checked against the pinned key only.
    forged = send(client, make_ticket(node, size=10, key=OTHER_KEY, upload="impostor"), b"x" * 10)
    assert (forged.status_code, forged.json["error"]) == (401, "invalid_ticket")
    assert send(client, make_ticket(node, size=10, upload="honest"), b"x" * 10).status_code == 202
    # The real tracker answers again: the mismatch is over.
    tracker.key = TRACKER_ID
    announce(node, node.tracker_pin)
    assert client.get("/api/v1/status").json["tracker_key"] == {"pinned": TRACKER_ID, "seen": TRACKER_ID,
                                                                "mismatch": False, "reach": None}


def test_the_operator_accepts_a_new_key_by_deleting_tracker_pub(node, tracker):
    announce(node, node.tracker_pin)
    tracker.key = OTHER_ID
    with pytest.raises(TrackerKeyMismatch):
        announce(node, node.tracker_pin)
    os.remove(node.tracker_pin.pin_path)
    announce(node, node.tracker_pin)
    assert node.tracker_key() == OTHER_ID


def test_an_answer_without_a_key_is_refused(node, tracker):
    announce(node, node.tracker_pin)
    tracker.key, tracker.tasks = None, [{"action": "delete", "video_id": "ab" * 20}]
    handed = []
    with pytest.raises(TrackerError, match="did not give its key"):
        announce(node, node.tracker_pin, on_tasks=lambda tasks, _tracker: handed.append(tasks))
    assert handed == [] and node.tracker_key() == TRACKER_ID


def test_edge_tracker_key_is_the_key_from_the_start(tmp_path, tracker):
    app = edge_app(tmp_path, tracker, EDGE_TRACKER_KEY=OTHER_ID.upper())
    node, client = app.extensions["edge"], app.test_client()
    try:
        assert node.tracker_key() == OTHER_ID
        # Tickets need no announce to learn a key, and only the configured key's tickets pass.
        assert send(client, make_ticket(node, size=10, key=OTHER_KEY, upload="mine"), b"x" * 10).status_code == 202
        assert tracker.announces == []
        refused = send(client, make_ticket(node, size=10, upload="theirs"), b"x" * 10)
        assert (refused.status_code, refused.json["error"]) == (401, "invalid_ticket")
        with pytest.raises(TrackerKeyMismatch):  # the fake tracker answers with another key
            announce(node, node.tracker_pin)
        assert not os.path.exists(node.tracker_pin.pin_path)
        assert client.get("/api/v1/status").json["tracker_key"] == {"pinned": OTHER_ID, "seen": TRACKER_ID,
                                                                    "mismatch": True, "reach": None}
    finally:
        db.close()


@pytest.mark.parametrize("value", ["abc", "g" * 64, "a" * 63, "a" * 65])
def test_a_malformed_edge_tracker_key_is_refused_with_its_name(value):
    with pytest.raises(ValueError, match="^EDGE_TRACKER_KEY must be"):
        load({}, {"EDGE_TRACKER_KEY": value})


# 3. Multipart: no byte of a file before a valid ticket; nothing on disk before then.


def part(name, data, filename=None):
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"


def post_raw(client, *parts):
    """POST a hand-made multipart body; return (answer, bytes of the body the edge read, body length)."""
    body = io.BytesIO(b"".join(parts) + f"--{BOUNDARY}--\r\n".encode())
    answer = client.post("/api/v1/uploads", input_stream=body, content_type=f"multipart/form-data; boundary={BOUNDARY}",
                         environ_overrides={"CONTENT_LENGTH": str(len(body.getvalue()))})
    return answer, body.tell(), len(body.getvalue())


def test_a_file_before_its_ticket_is_refused_unread(client, node):
    ticket = make_ticket(node, size=900_000)  # a valid ticket, but after the file
    answer, read, length = post_raw(client, part("file", os.urandom(900_000), "clip.mp4"),
                                    part("ticket", ticket.encode()))
    assert (answer.status_code, answer.json["error"]) == (401, "ticket_first")
    assert read <= CHUNK < length  # refused at the file's headers, not after its bytes
    assert os.listdir(node.uploads) == [] and nothing_stored(node)


@pytest.mark.parametrize("case, status, code", [("forged", 401, "invalid_ticket"), ("other node", 403, "wrong_node"),
                                                ("expired", 401, "ticket_expired")])
def test_a_file_after_a_refused_ticket_is_refused_unread(client, node, case, status, code):
    ticket = {"forged": lambda: make_ticket(node, size=900_000, key=OTHER_KEY),
              "other node": lambda: make_ticket(node, size=900_000, node="ab" * 32),
              "expired": lambda: make_ticket(node, size=900_000, expires_in=-1)}[case]()
    answer, read, length = post_raw(client, part("ticket", ticket.encode()),
                                    part("file", os.urandom(900_000), "clip.mp4"))
    assert (answer.status_code, answer.json["error"]) == (status, code)
    assert read <= CHUNK < length
    assert os.listdir(node.uploads) == [] and nothing_stored(node)


def test_nothing_is_created_on_disk_while_the_ticket_is_checked(client, node, monkeypatch):
    seen = []

    def checking(*args, **kwargs):
        seen.append(os.listdir(node.uploads))  # what is on disk at the moment the ticket is checked
        return real(*args, **kwargs)

    real = form_uploads.check_ticket
    monkeypatch.setattr(form_uploads, "check_ticket", checking)
    refused = send(client, make_ticket(node, size=10, key=OTHER_KEY), b"x" * 10)
    honest = send(client, make_ticket(node, size=10, upload="honest"), b"x" * 10)
    assert (refused.status_code, honest.status_code) == (401, 202)
    assert seen == [[], []]


def test_a_tus_upload_with_a_forged_ticket_creates_nothing(client, node):
    metadata = "ticket " + base64.b64encode(make_ticket(node, size=10, key=OTHER_KEY).encode()).decode()
    answer = client.post("/api/v1/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10",
                                                     "Upload-Metadata": metadata})
    assert (answer.status_code, answer.json["error"]) == (401, "invalid_ticket")
    assert os.listdir(node.uploads) == [] and nothing_stored(node)


# 4. Capacity: never more than the disk really has, less EDGE_DISK_MARGIN.


def test_capacity_is_the_setting_when_the_disk_has_room(client, node, tracker):
    status = client.get("/api/v1/status").json
    # Free is what a new transfer may take: all of EDGE_CAPACITY here, the disk having more.
    assert (status["capacity"], status["free"], status["used"]) == (10**7, 10**7, 0)
    announce(node, node.tracker_pin)
    assert (tracker.announces[-1]["capacity"], tracker.announces[-1]["free"]) == (10**7, 10**7)
    assert load({}, {})["EDGE_DISK_MARGIN"] == 10**9


def test_a_disk_with_less_room_than_the_margin_offers_nothing(tmp_path, tracker):
    app = edge_app(tmp_path, tracker, EDGE_DISK_MARGIN="1000000TB")
    node, client = app.extensions["edge"], app.test_client()
    try:
        with open(os.path.join(node.videos, "held"), "wb") as f:
            f.write(b"x" * 1000)
        status = client.get("/api/v1/status").json
        assert (status["capacity"], status["free"], status["used"]) == (1000, 0, 1000)
        announce(node, node.tracker_pin)
        assert (tracker.announces[-1]["capacity"], tracker.announces[-1]["free"]) == (1000, 0)
        refused = send(client, make_ticket(node, size=10), b"x" * 10)
        assert (refused.status_code, refused.json["error"]) == (507, "insufficient_storage")
        metadata = "ticket " + base64.b64encode(make_ticket(node, size=10, upload="tus").encode()).decode()
        tus = client.post("/api/v1/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10",
                                                      "Upload-Metadata": metadata})
        assert (tus.status_code, tus.json["error"]) == (507, "insufficient_storage")
        assert os.listdir(node.uploads) == []
    finally:
        db.close()


def test_promised_and_half_written_bytes_are_announced_as_used(tmp_path, tracker):
    """Capacity 10 MB: a resumable upload's declared length counts from its creation, written or
    not, and so do packages and replicas being written in staging/."""
    app = edge_app(tmp_path, tracker, EDGE_MAX_UPLOAD="8MB")
    node, client = app.extensions["edge"], app.test_client()
    try:
        assert tus_create(client, node, 4 * 10**6).status_code == 201
        os.makedirs(node.staging_path("a-job"))
        with open(os.path.join(node.staging_path("a-job"), "360p_00000.m4s"), "wb") as package:
            package.write(b"x" * 10**6)
        status = client.get("/api/v1/status").json
        assert (status["used"], status["reserved"], status["free"]) == (5 * 10**6, 4 * 10**6, 5 * 10**6)
        announce(node, node.tracker_pin)
        sent = tracker.announces[-1]
        assert (sent["capacity"], sent["used"], sent["free"]) == (10**7, 5 * 10**6, 5 * 10**6)
        refused = tus_create(client, node, 5 * 10**6 + 1, upload="more")
        assert (refused.status_code, refused.json["error"]) == (507, "insufficient_storage")
    finally:
        db.close()


def tus_create(client, node, length, upload="big"):
    metadata = "ticket " + base64.b64encode(make_ticket(node, size=length, upload=upload).encode()).decode()
    return client.post("/api/v1/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(length),
                                                   "Upload-Metadata": metadata})
