"""The edge's deny-list (edge/deny.py): a denied video is deleted if held, an upload that turns out to
be it fails with nothing kept, a replicate task for it is refused, its files answer 451 (on the fast
path of a real gunicorn edge too), and announces no longer list it."""
import json
import os

import pytest
import requests

import segmenter
from edge.announcer import announce
from edge.jobs import run_next
from edge.replication import ReplicationError, Replicator, pull_client, replicate
from tests.edge.package import fake_package, published_video, write_package
from tests.edge.uploads import queue_upload
from tests.servers import start_edge

TOKEN = "deny-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def edge_config():
    return {"EDGE_ADMIN_TOKEN": TOKEN}


def deny(client, video_id, **body):
    return client.post(f"/api/v1/deny/{video_id}", json=body, headers=BEARER)


def assert_error(answer, status, code):
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.json["error"] == code and answer.json["message"]


def test_denying_a_held_video_deletes_it_and_its_files_answer_451(client, node):
    video_id = published_video(node)
    assert client.get(f"/videos/{video_id}/master.m3u8").status_code == 200
    answer = deny(client, video_id, reason="court order 12/2026")
    assert answer.status_code == 201
    assert answer.json == {"video_id": video_id, "reason": "court order 12/2026", "deleted": True}
    assert not os.path.exists(node.video_path(video_id)) and node.published() == []
    # The plain GET takes the fast path (edge/fastpath.py), the conditional one Flask's: both 451.
    for headers in ({}, {"If-None-Match": '"x"'}, {"Range": "bytes=0-1"}):
        assert_error(client.get(f"/videos/{video_id}/360p_00000.m4s", headers=headers), 451, "denied")
    assert_error(client.get(f"/videos/{video_id}/manifest.json"), 451, "denied")
    assert client.get(f"/videos/{'1' * 40}/manifest.json").status_code == 404  # other videos: still a plain 404
    listed = client.get("/api/v1/deny", headers=BEARER).json["denied"]
    assert [(d["video_id"], d["reason"]) for d in listed] == [(video_id, "court order 12/2026")]


def test_a_video_not_held_can_be_denied_and_allowed_again(client, node):
    video_id = "ab" * 20
    answer = deny(client, video_id)
    assert answer.status_code == 201 and answer.json["deleted"] is False
    assert_error(client.get(f"/videos/{video_id}/master.m3u8"), 451, "denied")
    allowed = client.delete(f"/api/v1/deny/{video_id}", headers=BEARER)
    assert allowed.status_code == 200 and allowed.json == {"video_id": video_id, "denied": False}
    assert client.get(f"/videos/{video_id}/master.m3u8").status_code == 404
    assert_error(client.delete(f"/api/v1/deny/{video_id}", headers=BEARER), 404, "not_denied")
    assert client.get("/api/v1/deny", headers=BEARER).json == {"denied": []}


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_the_deny_list_is_the_operators(client, method):
    path = "/api/v1/deny" if method == "get" else f"/api/v1/deny/{'ab' * 20}"
    assert_error(client.open(path, method=method.upper()), 401, "unauthorized")
    assert_error(client.open(path, method=method.upper(), headers={"Authorization": "Bearer no"}), 403, "forbidden")
    assert client.get("/api/v1/deny", headers=BEARER).json == {"denied": []}


def test_bad_deny_requests_are_400(client):
    assert_error(deny(client, "not-a-video"), 400, "invalid_video_id")
    assert_error(deny(client, "ab" * 20, reason=5), 400, "invalid_reason")
    assert_error(deny(client, "ab" * 20, reason={}), 400, "invalid_reason")
    assert_error(client.post(f"/api/v1/deny/{'ab' * 20}", data="not json", headers=BEARER,
                             content_type="application/json"), 400, "invalid_reason")
    assert_error(deny(client, "ab" * 20, reason="x" * 501), 400, "invalid_reason")
    assert client.get("/api/v1/deny", headers=BEARER).json == {"denied": []}


def test_an_upload_that_is_a_denied_video_fails_and_nothing_is_kept(client, node, tracker, monkeypatch, tmp_path):
    monkeypatch.setattr(segmenter, "package", fake_package, raising=False)
    os.makedirs(tmp_path / "probe")
    denied, _ = write_package(str(tmp_path / "probe"))  # the id the upload will turn out to have
    assert deny(client, denied).status_code == 201
    job = queue_upload(client, node)
    assert run_next(node)
    status = client.get(f"/api/v1/jobs/{job}").json
    assert status["state"] == "failed" and status["error_status"] == 451
    assert denied in status["error"] and "denied" in status["error"]
    assert os.listdir(node.uploads) == [] and os.listdir(node.videos) == []
    assert [name for name in os.listdir(node.staging) if not name.endswith(".lock")] == []
    assert tracker.registrations == []


def test_a_replicate_task_for_a_denied_video_is_refused(client, node):
    video_id = "cd" * 20
    deny(client, video_id)
    replicator = Replicator(node, pull_client(allow_private=True))  # not started: what it queues stays
    replicator.submit([{"action": "replicate", "video_id": video_id, "sources": ["http://127.0.0.1:9"]},
                       {"action": "replicate", "video_id": "ab" * 20, "sources": ["http://127.0.0.1:9"]}])
    assert [task[0] for task in list(replicator.tasks.queue)] == ["ab" * 20]
    # And should one be queued before the deny, the pull itself refuses it.
    with pytest.raises(ReplicationError, match="deny-list"):
        # The source is never asked: nothing listens there, and the refusal comes first.
        replicate(node, video_id, ["http://127.0.0.1:9"], pull_client(allow_private=True))
    assert node.published() == [] and os.listdir(node.staging) == []


def test_announces_no_longer_list_a_denied_video(client, node, tracker):
    kept, denied = published_video(node), "ef" * 20
    # A copy the deny could not delete (here: made after it) is still not announced.
    deny(client, denied)
    os.rename(node.video_path(kept), node.video_path(denied))
    kept = published_video(node)
    announce(node, node.trackers[0])
    assert tracker.announces[-1]["videos"] == [kept]


def test_the_cli_denies_and_allows(node, tracker, monkeypatch, capsys):
    from edge.__main__ import main

    video_id = published_video(node)
    monkeypatch.setenv("SLIPSTREAM_DATA_DIR", node.data_dir)
    monkeypatch.setenv("EDGE_TRACKER_URL", tracker.url)
    assert main(["deny", video_id, "--reason", "DMCA notice"]) == 0
    assert json.loads(capsys.readouterr().out) == {"video_id": video_id, "reason": "DMCA notice", "deleted": True}
    assert node.published() == []
    assert main(["allow", video_id]) == 0
    assert main(["allow", video_id]) == 1
    with pytest.raises(SystemExit):
        main(["deny", "nope"])


def test_a_real_edge_answers_451_on_its_fast_path(tmp_path, tracker):
    """The edge's own gunicorn worker sends published files before Flask (edge/worker.py): a denied
    video must not slip through it, in any worker process."""
    data = tmp_path / "edge"
    os.makedirs(data / "videos" / "staging")
    video_id, _ = write_package(str(data / "videos" / "staging"))
    os.rename(data / "videos" / "staging", data / "videos" / video_id)
    server = start_edge(data, tracker.url, workers=2, EDGE_ADMIN_TOKEN=TOKEN)
    try:
        segment = f"{server.url}/videos/{video_id}/360p_00000.m4s"
        assert [requests.get(segment, timeout=5).status_code for _ in range(4)] == [200] * 4
        assert requests.post(f"{server.url}/api/v1/deny/{video_id}", headers=BEARER, timeout=5).status_code == 201
        for _ in range(4):  # each worker process, whatever it cached
            for method in ("GET", "HEAD"):
                answer = requests.request(method, segment, timeout=5)
                assert answer.status_code == 451
    finally:
        server.stop()
