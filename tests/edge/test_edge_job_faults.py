"""Jobs that outlive a fault: a tracker away when a package is ready, an edge that died while
packaging. (The same faults on real gunicorn servers: tests/network/test_faults.py.)"""
import os
import sqlite3
import time

import pytest

import segmenter
from edge import create_app
from edge.jobs import MAX_STARTS, REGISTER_MAX_DELAY, REGISTER_PATIENCE, recover, run_next
from edge.models import Job, db
from tests.edge.package import fake_package
from tests.edge.uploads import queue_upload
from tests.openapi_check import errors


@pytest.fixture(autouse=True)
def packaged_by_hand(monkeypatch):
    monkeypatch.setattr(segmenter, "package", fake_package, raising=False)


def job_row(job_id):
    with db.connection_context():
        return Job.find(job_id)


def make_due(job_id):
    """The moment its next try is due (instead of waiting for the back-off)."""
    with db.connection_context():
        Job.update(retry_at=time.time() - 1).where(Job.id == job_id).execute()


def test_a_job_waits_for_a_tracker_that_is_away_then_registers(client, node, tracker):
    tracker.unavailable = True
    job = queue_upload(client, node)
    assert run_next(node)
    status = client.get(f"/api/v1/jobs/{job}").json
    assert status["state"] == "running" and status["stage"] == "registering", status
    assert "waiting for the tracker" in status["message"] and "503" in status["message"]
    assert status["retry_at"] > time.time()
    spec = client.get("/api/v1/openapi.json").json
    documented = spec["paths"]["/api/v1/jobs/{job_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert errors(status, documented["schema"], spec) == []
    # The package is kept, the upload it came from is not; and no thread waits for the tracker.
    assert node.published() == [status["video_id"]] and os.listdir(node.uploads) == []
    assert not run_next(node)
    make_due(job)
    assert run_next(node)  # a second try, refused again: the delay doubles
    again = job_row(job)
    assert again.register_tries == 2 and again.retry_at - time.time() > 1.5
    tracker.unavailable = False
    make_due(job)
    assert run_next(node)
    status = client.get(f"/api/v1/jobs/{job}").json
    assert status["state"] == "published" and set(status) == {"job", "state", "progress", "video_id"}
    assert [r["video_id"] for r in tracker.registrations] == [status["video_id"]]


def test_the_back_off_is_bounded(client, node, tracker):
    tracker.unavailable = True
    job = queue_upload(client, node)
    assert run_next(node)
    with db.connection_context():
        Job.update(register_tries=40, retry_at=0).where(Job.id == job).execute()
    assert run_next(node)
    assert job_row(job).retry_at - time.time() <= REGISTER_MAX_DELAY


def test_a_tracker_away_past_the_patience_fails_the_job_and_frees_its_space(client, node, tracker):
    tracker.unavailable = True
    job = queue_upload(client, node)
    assert run_next(node)
    with db.connection_context():
        Job.update(created=time.time() - REGISTER_PATIENCE, retry_at=0).where(Job.id == job).execute()
    assert run_next(node)
    status = client.get(f"/api/v1/jobs/{job}").json
    assert status["state"] == "failed" and status["error_status"] == 502, status
    assert "did not register" in status["error"] and "503" in status["error"]
    assert node.published() == [] and os.listdir(node.uploads) == [] and os.listdir(node.staging) == []


def test_a_restarted_edge_resumes_a_waiting_job_at_its_registration(app, client, node, tracker, tmp_path):
    tracker.unavailable = True
    job = queue_upload(client, node)
    assert run_next(node)
    assert recover(node) == []  # waiting needs no lock: not abandoned, never packaged again
    tracker.unavailable = False
    make_due(job)
    db.close()
    again = create_app({**app.config, "EDGE_BACKGROUND": False}).extensions["edge"]
    assert run_next(again)
    assert client.get(f"/api/v1/jobs/{job}").json["state"] == "published"


def test_an_abandoned_job_is_requeued_until_it_has_killed_the_edge_too_often(client, node):
    resumed, given_up = queue_upload(client, node, "up-1"), queue_upload(client, node, "up-2")
    with db.connection_context():
        for job_id in (resumed, given_up):
            assert Job.claim(job_id)
            os.makedirs(os.path.join(node.staging_path(job_id), "half-written"))
        Job.update(starts=MAX_STARTS).where(Job.id == given_up).execute()
    assert recover(node) == [resumed]
    assert client.get(f"/api/v1/jobs/{resumed}").json["state"] == "queued"
    status = client.get(f"/api/v1/jobs/{given_up}").json
    assert status["state"] == "failed" and status["error_status"] == 500
    assert f"stopped {MAX_STARTS} times" in status["error"]
    assert os.listdir(node.uploads) == [f"{resumed}.upload"]
    assert [n for n in os.listdir(node.staging) if not n.endswith(".lock")] == []
    assert run_next(node)  # the re-queued one is packaged again from its upload
    assert client.get(f"/api/v1/jobs/{resumed}").json["state"] == "published"


def test_an_older_edge_database_gets_the_new_job_columns(tmp_path, tracker):
    data = tmp_path / "old-edge"
    data.mkdir()
    with sqlite3.connect(data / "edge.db") as old:
        old.execute("CREATE TABLE jobs (id VARCHAR(255) PRIMARY KEY, state VARCHAR(255), progress REAL, eta REAL,"
                    " error TEXT, error_status INTEGER, video_id VARCHAR(255), upload VARCHAR(255), ticket TEXT,"
                    " size INTEGER, created REAL, updated REAL)")
        old.execute("INSERT INTO jobs VALUES ('old', 'running', 0.5, NULL, NULL, NULL, NULL, 'up', '{}', 1, 0, 0)")
    old.close()
    app = create_app({"SLIPSTREAM_DATA_DIR": str(data), "SLIPSTREAM_PUBLIC_URL": "http://edge.test",
                      "EDGE_TRACKER_URL": tracker.url, "EDGE_BACKGROUND": False})
    with db.connection_context():
        assert Job.transcoding_ids() == ["old"]  # a job from before stages is packaging
        assert Job.find("old").starts == 0
    assert app.test_client().get("/api/v1/jobs/old").json["stage"] == "transcoding"
