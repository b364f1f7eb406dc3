"""The edge app on Flask's test client, a temporary data dir and a hand-written fake tracker."""
import io
import json
import os
import threading
import time

import nacl.signing
import pytest

import segmenter
from edge.background import start as start_background
from edge.config import load, parse_size
from edge.jobs import JobLock, recover, run_next
from edge.models import Job, db
from segmenter.errors import RejectedInput
from tests.edge.faketracker import TRACKER_ID, make_ticket
from tests.edge.package import PACKAGE, fake_package, published_video
from tests.edge.uploads import nothing_stored, queue_upload, send


# Settings


@pytest.mark.parametrize("text, size", [("400MB", 400 * 10**6), ("20GB", 20 * 10**9), ("123", 123),
                                         ("1.5GiB", 3 * 2**29), (" 10 kb ", 10_000), (2048, 2048)])
def test_sizes_parse(text, size):
    assert parse_size("EDGE_CAPACITY", text) == size


@pytest.mark.parametrize("text", ["", "ten GB", "5XB", "-1MB"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(ValueError, match="EDGE_CAPACITY"):
        parse_size("EDGE_CAPACITY", text)


def test_environment_then_config_override_defaults():
    environ = {"EDGE_CAPACITY": "2GB", "EDGE_MAX_UPLOAD": "1GB", "PORT": "9005", "EDGE_BACKGROUND": "0"}
    settings = load({"EDGE_MAX_UPLOAD": 5000}, environ)
    assert settings["EDGE_CAPACITY"] == 2 * 10**9 and settings["EDGE_MAX_UPLOAD"] == 5000
    assert settings["SLIPSTREAM_PUBLIC_URL"] == "http://127.0.0.1:9005"
    assert settings["EDGE_BACKGROUND"] is False and settings["EDGE_ANNOUNCE_INTERVAL"] is None
    assert load({}, {})["EDGE_CAPACITY"] == 10 * 10**9


def test_a_malformed_setting_is_refused_with_its_name():
    for environ in ({"EDGE_BACKGROUND": "maybe"}, {"EDGE_JOB_THREADS": "two"}, {"EDGE_CAPACITY": "lots"}):
        with pytest.raises(ValueError, match=f"^{next(iter(environ))} must be"):
            load({}, environ)


# Uploads


def test_upload_is_streamed_to_disk_and_queued(client, node, tracker):
    answer = send(client, make_ticket(node, size=100), data=b"x" * 100)
    assert answer.status_code == 202, answer.json
    job = answer.json["job"]
    assert answer.json["status_url"] == f"http://edge.test/api/v1/jobs/{job}"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert os.listdir(node.uploads) == [f"{job}.upload"]
    assert os.path.getsize(node.upload_path(job)) == 100
    assert [a["event"] for a in tracker.announces] == [""]  # it announced to learn the tracker's key
    assert node.tracker_key() == TRACKER_ID
    status = client.get(f"/api/v1/jobs/{job}").json
    assert status == {"job": job, "state": "queued", "progress": 0.0}


def test_a_file_of_many_chunks_arrives_whole(client, node):
    data = os.urandom(300_000)
    answer = send(client, make_ticket(node, size=len(data)), data=data)
    assert answer.status_code == 202, answer.json
    with open(node.upload_path(answer.json["job"]), "rb") as f:
        assert f.read() == data


def test_an_oversized_form_field_is_refused(client, node):
    answer = send(client, make_ticket(node, size=10), b"0123456789", fields={"title": "x" * 70_000})
    assert (answer.status_code, answer.json["error"]) == (413, "too_large")
    assert nothing_stored(node)


@pytest.mark.parametrize("case, status, code", [
    ("forged", 401, "invalid_ticket"),
    ("garbage", 401, "invalid_ticket"),
    ("missing ticket", 401, "ticket_first"),
    ("blank ticket", 401, "missing_ticket"),
    ("expired", 401, "ticket_expired"),
    ("other node", 403, "wrong_node"),
    ("file larger than ticket", 413, "too_large"),
    ("ticket larger than max upload", 413, "too_large"),
    ("no room", 507, "insufficient_storage"),
    ("no file", 400, "missing_file"),
    ("empty file", 400, "empty_file"),
])
def test_refused_uploads_leave_nothing_behind(client, node, case, status, code):
    ticket, data = make_ticket(node, size=100), b"x" * 50
    if case == "forged":
        ticket = make_ticket(node, size=100, key=nacl.signing.SigningKey.generate())
    elif case == "garbage":
        ticket = "not-a-ticket!"
    elif case == "missing ticket":
        ticket = None
    elif case == "blank ticket":
        ticket = ""
    elif case == "expired":
        ticket = make_ticket(node, size=100, expires_in=-1)
    elif case == "other node":
        ticket = make_ticket(node, size=100, node="ab" * 32)
    elif case == "file larger than ticket":
        data = b"x" * 101
    elif case == "ticket larger than max upload":
        ticket = make_ticket(node, size=2 * 10**6)
    elif case == "no room":  # a (sparse) file fills the 10 MB capacity to 99 bytes short
        with open(os.path.join(node.videos, "filler"), "wb") as f:
            f.truncate(10**7 - 99)
    elif case == "no file":
        data = None
    elif case == "empty file":
        data = b""
    answer = send(client, ticket, data)
    assert (answer.status_code, answer.json["error"]) == (status, code), answer.json
    assert set(answer.json) == {"error", "message"} and answer.json["message"]
    assert nothing_stored(node)


def test_a_body_over_the_maximum_is_refused_before_reading(client, node):
    answer = client.post("/api/v1/uploads", content_type="multipart/form-data; boundary=x",
                         input_stream=io.BytesIO(b""), environ_overrides={"CONTENT_LENGTH": str(3 * 10**6)})
    assert (answer.status_code, answer.json["error"]) == (413, "too_large")
    assert nothing_stored(node)


@pytest.mark.parametrize("body, content_type", [
    (b"ticket=abc", "application/x-www-form-urlencoded"),
    (b"--x\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nabc", "multipart/form-data; boundary=x"),
    (b"--x\r\nContent-Disposition: form-data; name=\"file\"" + b"; a=b" * 50_000, "multipart/form-data; boundary=x"),
    (b"no boundary at all " * 20_000, "multipart/form-data; boundary=x"),
])
def test_malformed_forms_are_400(client, node, body, content_type):
    answer = client.post("/api/v1/uploads", data=body, content_type=content_type)
    assert answer.status_code == 400 and answer.json["error"] == "bad_form"
    assert nothing_stored(node)


def test_an_empty_post_is_asked_for_its_ticket(client, node):
    answer = client.post("/api/v1/uploads")
    assert (answer.status_code, answer.json["error"]) == (401, "missing_ticket")
    assert nothing_stored(node)


def test_a_ticket_is_used_once(client, node):
    ticket = make_ticket(node, size=10)
    assert send(client, ticket, b"0123456789").status_code == 202
    again = send(client, ticket, b"0123456789")
    assert (again.status_code, again.json["error"]) == (409, "ticket_used")


def test_uploads_answer_cors_preflight(client):
    answer = client.options("/api/v1/uploads", headers={
        "Origin": "https://site.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert answer.status_code in (200, 204)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in answer.headers["Access-Control-Allow-Headers"]


# Jobs


def test_a_job_is_packaged_published_and_registered(client, node, tracker, monkeypatch):
    monkeypatch.setattr(segmenter, "package", fake_package, raising=False)
    job = queue_upload(client, node)
    assert run_next(node) and not run_next(node)
    status = client.get(f"/api/v1/jobs/{job}").json
    assert status["state"] == "published" and status["progress"] == 1.0, status
    video_id = status["video_id"]
    assert os.listdir(node.uploads) == [] and os.listdir(node.staging) == []
    assert sorted(os.listdir(node.video_path(video_id))) == sorted([*PACKAGE, "manifest.json"])
    (registration,) = tracker.registrations
    assert registration["upload"] == "up-1" and registration["video_id"] == video_id
    # Nothing else: the tracker reads the package's facts from the manifest it fetches and checks.
    assert registration["node"] == node.id and set(registration) == {"node", "timestamp", "upload", "video_id"}
    assert tracker.announces[-1]["videos"] == [video_id]
    assert client.get("/api/v1/status").json["videos"] == [video_id]


def test_the_same_video_twice_is_stored_once(client, node, monkeypatch):
    monkeypatch.setattr(segmenter, "package", fake_package, raising=False)
    jobs = [queue_upload(client, node, upload=f"up-{n}") for n in range(2)]
    assert run_next(node) and run_next(node)
    videos = {client.get(f"/api/v1/jobs/{job}").json["video_id"] for job in jobs}
    assert len(videos) == 1 and os.listdir(node.videos) == list(videos)
    assert os.listdir(node.staging) == []


def test_a_rejected_input_fails_the_job_with_its_reason(client, node, tracker, monkeypatch):
    def reject(src, outdir, on_progress=None):
        with open(os.path.join(outdir, "half.m4s"), "wb") as f:
            f.write(b"partial")
        raise RejectedInput("the file has no video stream", 415)

    monkeypatch.setattr(segmenter, "package", reject, raising=False)
    job = queue_upload(client, node)
    assert run_next(node)
    status = client.get(f"/api/v1/jobs/{job}").json
    assert status["state"] == "failed" and status["error"] == "the file has no video stream"
    with db.connection_context():
        assert Job.find(job).error_status == 415
    assert os.listdir(node.uploads) == os.listdir(node.staging) == os.listdir(node.videos) == []
    assert tracker.registrations == []


def test_a_refused_registration_unpublishes(client, node, tracker, monkeypatch):
    monkeypatch.setattr(segmenter, "package", fake_package, raising=False)
    tracker.refuse_registration = "no such upload"
    job = queue_upload(client, node)
    assert run_next(node)
    status = client.get(f"/api/v1/jobs/{job}").json
    assert status["state"] == "failed" and "no such upload" in status["error"]
    assert os.listdir(node.uploads) == os.listdir(node.staging) == os.listdir(node.videos) == []


def test_only_one_claimant_wins_a_job(client, node):
    job = queue_upload(client, node)
    barrier, wins = threading.Barrier(6), []

    def claim():
        with db.connection_context():
            barrier.wait()
            wins.append(Job.claim(job))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 5 + [True]


def test_abandoned_running_jobs_are_requeued(client, node):
    abandoned, alive = queue_upload(client, node, "up-1"), queue_upload(client, node, "up-2")
    with db.connection_context():
        assert Job.claim(abandoned) and Job.claim(alive)
    with JobLock(node, alive) as held:  # a live runner holds its job's lock
        assert held
        assert recover(node) == [abandoned]
    assert client.get(f"/api/v1/jobs/{abandoned}").json["state"] == "queued"
    assert client.get(f"/api/v1/jobs/{alive}").json["state"] == "running"


def test_unknown_job_is_a_json_404(client):
    answer = client.get("/api/v1/jobs/nope")
    assert answer.status_code == 404 and answer.json["error"] == "unknown_job"


# Serving

TYPES = {"master.m3u8": "application/vnd.apple.mpegurl", "360p.m3u8": "application/vnd.apple.mpegurl",
         "360p_init.mp4": "video/mp4", "360p_00000.m4s": "video/iso.segment", "poster.jpg": "image/jpeg",
         "captions.vtt": "text/vtt", "manifest.json": "application/json"}


@pytest.mark.parametrize("name", sorted(TYPES))
def test_package_files_are_served_with_our_types(client, node, name):
    video_id = published_video(node)
    answer = client.get(f"/videos/{video_id}/{name}")
    assert answer.status_code == 200
    assert answer.mimetype == TYPES[name]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Range" in answer.headers["Access-Control-Expose-Headers"]
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer.headers["Accept-Ranges"] == "bytes"
    with open(os.path.join(node.video_path(video_id), name), "rb") as f:
        assert answer.data == f.read()
    answer.close()


def test_range_conditional_and_head_requests(client, node):
    video_id = published_video(node)
    url, data = f"/videos/{video_id}/360p_00000.m4s", PACKAGE["360p_00000.m4s"]
    full = client.get(url)
    etag = full.headers["ETag"]
    assert not etag.startswith("W/")  # strong: the file's SHA-256 from the manifest
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.data == data[-10:]
    beyond = client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    with client.get(url, headers={"If-None-Match": etag}) as unchanged:
        assert unchanged.status_code == 304
    head = client.head(url)
    assert head.status_code == 200 and head.data == b"" and head.content_length == len(data)
    preflight = client.options(url, headers={"Origin": "https://site.example",
                                             "Access-Control-Request-Method": "GET",
                                             "Access-Control-Request-Headers": "range"})
    assert "Range" in preflight.headers["Access-Control-Allow-Headers"]
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    for answer in (full, part, tail, beyond, head, preflight):
        answer.close()


TRAVERSAL = [
    "/videos/{id}/..", "/videos/{id}/%2e%2e", "/videos/{id}/../../node.key", "/videos/{id}/..%2f..%2fnode.key",
    "/videos/{id}/%2e%2e%2f%2e%2e%2fedge.db", "/videos/{id}/%2Fetc%2Fpasswd", "/videos/{id}//etc/passwd",
    "/videos/{id}/master.m3u8%00", "/videos/{id}/master.m3u8%00.jpg", "/videos/{id}/manifest.json.tmp",
    "/videos/{id}/unlisted.m3u8", "/videos/{id}/link.m3u8", "/videos/{id}/", "/videos/{id}",
    "/videos/{ID}/master.m3u8", "/videos/{id}0/master.m3u8", "/videos/{short}/master.m3u8",
    "/videos/{unknown}/master.m3u8", "/videos/..%2fnode.key/x", "/videos/{job}.upload/x",
    "/uploads/{job}.upload", "/node.key", "/edge.db", "/videos/{id}/master.M3U8",
]


def test_traversal_and_unknown_names_all_get_the_same_404(client, node):
    video_id = published_video(node)
    directory = node.video_path(video_id)
    with open(os.path.join(directory, "unlisted.m3u8"), "wb") as f:
        f.write(b"#EXTM3U\n")
    os.symlink(os.path.join(node.data_dir, "node.key"), os.path.join(directory, "link.m3u8"))
    job = queue_upload(client, node)
    expected = client.get(f"/videos/{'0' * 40}/master.m3u8")
    assert expected.status_code == 404
    for template in TRAVERSAL:
        path = template.format(id=video_id, ID=video_id.upper(), short=video_id[:39], unknown="f" * 40, job=job)
        answer = client.get(path)
        assert (answer.status_code, answer.json) == (404, expected.json), path


def test_a_symlink_listed_in_the_manifest_is_not_followed(client, node):
    video_id = published_video(node)
    segment = os.path.join(node.video_path(video_id), "360p_00000.m4s")
    os.rename(segment, segment + ".real")
    os.symlink(segment + ".real", segment)
    answer = client.get(f"/videos/{video_id}/360p_00000.m4s")
    assert answer.status_code == 404 and answer.json["error"] == "not_found"


# Status, health, metrics, announcing


def test_status_health_and_metrics(client, node, monkeypatch):
    monkeypatch.setattr(segmenter, "package", fake_package, raising=False)
    video_id = published_video(node)
    queue_upload(client, node)
    status = client.get("/api/v1/status").json
    assert status["node"] == node.id and status["url"] == "http://edge.test"
    assert status["tracker"] == TRACKER_ID and status["capacity"] == 10**7
    assert status["videos"] == [video_id] and status["used"] >= 100 + sum(map(len, PACKAGE.values()))
    assert status["jobs"] == {"queued": 1, "running": 0, "published": 0, "failed": 0}
    assert client.get("/healthz").json == {"status": "ok"}
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.mimetype == "text/plain"
    text = metrics.get_data(as_text=True)
    assert 'edge_jobs{state="queued"} 1.0' in text and "edge_videos 1.0" in text


def test_background_runs_in_one_process_and_says_goodbye(app, tracker, node):
    background = start_background(app)
    try:
        assert start_background(app) is None  # the lock is taken: a second worker stays quiet
        deadline = time.monotonic() + 10
        while not tracker.announces and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        background.stop()
    events = [a["event"] for a in tracker.announces]
    assert events[0] == "started" and events[-1] == "stopped", events
    first = tracker.announces[0]
    assert first["url"] == "http://edge.test" and first["capacity"] == 10**7 and first["videos"] == []
    assert node.tracker_key() == TRACKER_ID


def test_cli_status_reads_the_same_data_dir(node, tracker, monkeypatch, capsys):
    from edge.__main__ import main

    monkeypatch.setenv("SLIPSTREAM_DATA_DIR", node.data_dir)
    monkeypatch.setenv("EDGE_TRACKER_URL", tracker.url)
    assert main(["status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["node"] == node.id and status["jobs"]["queued"] == 0


def test_accel_redirect_mode_hands_the_file_to_nginx(app, client, node):
    video_id = published_video(node)
    app.config["EDGE_ACCEL_REDIRECT"] = "/internal-videos"
    answer = client.get(f"/videos/{video_id}/360p_00000.m4s")
    assert answer.status_code == 200 and answer.data == b""
    assert answer.headers["X-Accel-Redirect"] == f"/internal-videos/{video_id}/360p_00000.m4s"
    assert answer.headers["Content-Type"] == "video/iso.segment"
    assert client.get(f"/videos/{video_id}/not-listed.m4s").status_code == 404
    assert load({"EDGE_ACCEL_REDIRECT": "internal/"}, {})["EDGE_ACCEL_REDIRECT"] == "/internal"


@pytest.mark.parametrize("name", ["360p_00000.m4s", "master.m3u8", "captions.vtt", "manifest.json"])
def test_the_fast_path_answers_like_the_full_one(client, node, name):
    """Plain GETs skip Flask (edge/fastpath.py); a conditional header takes the full path."""
    video_id = published_video(node)
    fast = client.get(f"/videos/{video_id}/{name}")
    full = client.get(f"/videos/{video_id}/{name}", headers={"If-None-Match": '"something else"'})
    assert fast.status_code == full.status_code == 200 and fast.data == full.data
    without_date = lambda headers: {k: v for k, v in headers.items() if k != "Date"}  # noqa: E731
    assert without_date(fast.headers) == without_date(full.headers)
    head = client.head(f"/videos/{video_id}/{name}")
    assert head.data == b"" and head.headers["Content-Length"] == str(len(fast.data))
    for answer in (fast, full, head):
        answer.close()
