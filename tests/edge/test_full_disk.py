"""A full disk, for real: each test mounts a small tmpfs as the edge's data dir, with EDGE_CAPACITY far
larger, so only the disk can stop it, and fills it as another program on the machine would. Uploads
the disk cannot take are refused up front; a disk that fills during an upload, a pull or a transcode
answers 507 `insufficient_storage`, leaves no partial file and no hold, and the next announce offers
the smaller room."""
import base64
import io
import json
import os
import socket
import subprocess
import threading
from types import SimpleNamespace

import pytest
import requests
from flask import Response

from edge import create_app
from edge.announcer import announce
from edge.diskfull import is_disk_full
from edge.models import Hold, db
from segmenter import package
from segmenter.errors import EncodeError, SegmenterError
from tests.actions import announced, wait_for
from tests.edge.faketracker import make_ticket
from tests.edge.package import write_package
from tests.edge.sources import Source
from tests.openapi_check import errors, header_errors, response_schema
from tests.servers import start_edge

DISK = 8 * 2**20  # bytes of the tmpfs
TUS = {"Tus-Resumable": "1.0.0"}
PATCH = {**TUS, "Content-Type": "application/offset+octet-stream"}
CHUNK = 200_000  # a tus PATCH this small stays in memory (runtime/bodies.py spools past 256 KiB)
WAIT = 30
NOISE = 256 * 1024  # bytes the edge's database may grow by during a test (its write-ahead log)


@pytest.fixture
def small_disk(tmp_path):
    """A DISK-byte tmpfs, unmounted afterwards whatever happened. Mounting needs root: without it
    the tests fail, saying so, rather than pass untested."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.fail("tests/edge/test_full_disk.py mounts a tmpfs and must run as root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)],
                          check=False, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a {DISK}-byte tmpfs at {mount}: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=True)  # still busy: detach it now anyway


def disk_free(path):
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def fill(disk, leave):
    """Write a file into `disk` until only `leave` bytes are free, as another program would."""
    with open(os.path.join(disk, "filler"), "ab") as f:
        while (left := disk_free(disk) - leave) > 0:
            f.write(bytes(min(left, 1 << 20)))
            f.flush()


def offers_the_smaller_room(figures, before, disk):
    """An announce (or status) after a failed transfer: what the filler took is gone from `free`
    and `capacity`, and nothing else is (the transfer's partial files were removed), give or take
    what the database wrote meanwhile."""
    filler = os.path.getsize(os.path.join(disk, "filler"))
    for name in ("free", "capacity"):
        assert abs(figures[name] - (before[name] - filler)) < NOISE, (name, figures[name], before[name], filler)
    return True


def leftovers(disk):
    """What a transfer may leave behind: files in uploads/ and staging/, and published videos."""
    return [os.path.join(sub, name) for sub in ("uploads", "staging", "videos")
            for name in os.listdir(os.path.join(disk, sub))]


# On Flask's test client: the body reaches the app's own writes, where the disk fills.


@pytest.fixture
def app(small_disk, tracker):
    app = create_app({"SLIPSTREAM_DATA_DIR": str(small_disk), "SLIPSTREAM_PUBLIC_URL": "http://edge.test",
                      "EDGE_TRACKER_URL": tracker.url, "EDGE_CAPACITY": "1GB", "EDGE_DISK_MARGIN": "0",
                      "EDGE_MAX_UPLOAD": "4MB", "EDGE_BACKGROUND": False})
    yield app
    db.close()


class FillsDisk(io.BytesIO):
    """A request body that fills the disk once `after` bytes of it have been read."""

    def __init__(self, data, after, disk, leave=100_000):
        super().__init__(data)
        self.after, self.disk, self.leave = after, disk, leave

    def read(self, size=-1):
        self._fill_when_due()
        return super().read(size)

    def readinto(self, buffer):
        self._fill_when_due()
        return super().readinto(buffer)

    def _fill_when_due(self):
        if self.tell() >= self.after and not os.path.exists(os.path.join(self.disk, "filler")):
            fill(self.disk, self.leave)


def form(ticket, size):
    boundary = "fulldiskboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"ticket\"\r\n\r\n{ticket}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()
    return boundary, head, f"\r\n--{boundary}--\r\n".encode()


def test_a_form_upload_the_disk_fills_under_is_507_and_leaves_nothing(app, small_disk, tracker):
    node, client = app.extensions["edge"], app.test_client()
    before = client.get("/api/v1/status").json
    size = 2 * 10**6
    boundary, head, tail = form(make_ticket(node, size=size, upload="form-1"), size)
    body = head + os.urandom(size) + tail
    answer = client.post("/api/v1/uploads", input_stream=FillsDisk(body, 500_000, small_disk),
                         content_type=f"multipart/form-data; boundary={boundary}", content_length=len(body))
    assert (answer.status_code, answer.json["error"]) == (507, "insufficient_storage")
    assert "filled" in answer.json["message"]
    assert leftovers(small_disk) == []
    with db.connection_context():
        assert Hold.select().count() == 0
    announce(node, node.tracker_pin)
    assert offers_the_smaller_room(tracker.announces[-1], before, small_disk)


def test_a_tus_patch_the_disk_fills_under_ends_the_upload(app, small_disk, tracker):
    node, client = app.extensions["edge"], app.test_client()
    size = 2 * 10**6
    metadata = "ticket " + base64.b64encode(make_ticket(node, size=size, upload="tus-1").encode()).decode()
    created = client.post("/api/v1/uploads", headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": metadata})
    assert created.status_code == 201
    location = created.headers["Location"].removeprefix("http://edge.test")
    before = client.get("/api/v1/status").json
    assert (before["reserved"], before["used"]) == (size, size)  # promised bytes count as used
    before = {**before, "free": before["free"] + size}  # what it offered without the upload
    data = os.urandom(size)
    answer = client.patch(location, input_stream=FillsDisk(data, 500_000, small_disk), content_length=size,
                          headers={**PATCH, "Upload-Offset": "0"})
    assert (answer.status_code, answer.json["error"]) == (507, "insufficient_storage")
    spec = client.get("/api/v1/openapi.json").json
    template = "/api/v1/uploads/{upload_id}"
    assert errors(answer.json, response_schema(spec, template, "patch", 507), spec) == []
    assert header_errors(answer.headers, spec, template, "patch", 507) == []
    # Resuming would only fill the disk again: the upload is gone, its bytes and its hold with it.
    assert client.head(location, headers=TUS).status_code == 404
    assert leftovers(small_disk) == []
    status = client.get("/api/v1/status").json
    assert status["reserved"] == 0 and offers_the_smaller_room(status, before, small_disk)


# A real edge under gunicorn: bodies arrive through its event loop's spool, jobs and pulls run in
# its background threads.


@pytest.fixture
def edge(small_disk, tmp_path, tracker):
    server = start_edge(tmp_path / "edge", tracker.url, capacity="1GB", SLIPSTREAM_DATA_DIR=str(small_disk),
                        EDGE_DISK_MARGIN="0", EDGE_ANNOUNCE_INTERVAL="0.5")
    try:
        wait_for(lambda: announced(server), message="the edge announced")
        server.disk = small_disk
        server.node = SimpleNamespace(id=status(server)["node"])
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.logs()


def status(edge):
    return requests.get(edge.url + "/api/v1/status", timeout=WAIT).json()


def next_announce(tracker, after):
    """The first announce the tracker receives after it had `after` of them."""
    return wait_for(lambda: tracker.announces[after:] and tracker.announces[after], message="the next announce")


def start_form(edge, ticket, size, first=300_000):
    """Open a connection and send a form upload's head and its first `first` bytes of file, past
    what the event loop holds in memory; return the socket and the rest of the body."""
    boundary, head, tail = form(ticket, size)
    body = head + os.urandom(size) + tail
    sock = socket.create_connection(("127.0.0.1", edge.port), timeout=WAIT)
    sock.sendall(f"POST /api/v1/uploads HTTP/1.1\r\nHost: edge\r\nContent-Length: {len(body)}\r\n"
                 f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n".encode() + body[:first])
    return sock, body[first:]


def answer_of(sock, rest=b""):
    """Send what is left of the body (as far as the edge takes it), then read its answer: (status, error)."""
    try:
        sock.sendall(rest)
    except (BrokenPipeError, ConnectionResetError):  # answered already, and closed
        pass
    received = []
    try:
        while chunk := sock.recv(65536):
            received.append(chunk)
    except ConnectionResetError:  # the rest of the body, unread, made the kernel reset it
        pass
    sock.close()
    head, _, body = b"".join(received).partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)["error"]


def test_an_upload_larger_than_the_disk_is_refused_before_its_body(edge):
    free = status(edge)["free"]
    assert 0 < free <= DISK  # the disk, not the 1 GB of EDGE_CAPACITY, is what limits
    metadata = "ticket " + base64.b64encode(make_ticket(edge.node, size=free + 1, upload="tus").encode()).decode()
    tus = requests.post(edge.url + "/api/v1/uploads", timeout=WAIT,
                        headers={**TUS, "Upload-Length": str(free + 1), "Upload-Metadata": metadata})
    assert (tus.status_code, tus.json()["error"]) == (507, "insufficient_storage")
    for size in (free + 1, free // 2 + 1):  # a form waits whole in the spool file before its file is
        # copied out: it needs its room twice over, and is refused at its first bytes otherwise
        sock, _ = start_form(edge, make_ticket(edge.node, size=size, upload=f"form-{size}"), size)
        assert answer_of(sock) == (507, "insufficient_storage")
    assert leftovers(edge.disk) == [] and status(edge)["reserved"] == 0


def test_a_disk_filled_during_a_form_upload_answers_507(edge, tracker):
    before = status(edge)
    size = 2 * 10**6
    baseline = disk_free(edge.disk)
    sock, rest = start_form(edge, make_ticket(edge.node, size=size, upload="form-filled"), size)
    # Admitted: the body is going to the spool file on the small disk.
    wait_for(lambda: disk_free(edge.disk) <= baseline - 256 * 1024, message="the body reached the disk")
    fill(edge.disk, leave=100_000)
    assert answer_of(sock, rest) == (507, "insufficient_storage")
    assert leftovers(edge.disk) == [] and status(edge)["reserved"] == 0
    wait_for(lambda: disk_free(edge.disk) > 50_000, message="the spooled bytes freed")
    assert offers_the_smaller_room(next_announce(tracker, len(tracker.announces)), before, edge.disk)


def test_a_pull_the_disk_fills_under_leaves_nothing(edge, tracker, tmp_path):
    before = status(edge)
    package_dir = tmp_path / "package"
    package_dir.mkdir()
    segment = os.urandom(2 * 10**6)
    video_id, _ = write_package(package_dir, **{"360p_00000.m4s": segment})
    files = {name: (package_dir / name).read_bytes() for name in os.listdir(package_dir)}
    filled = threading.Event()

    def slow_segment():  # half of it, then the rest once the test has filled the disk
        def chunks():
            yield segment[:10**6]
            filled.wait(WAIT)
            yield segment[10**6:]
        return Response(chunks(), content_type="video/iso.segment")
    source = Source({**files, "360p_00000.m4s": slow_segment})
    try:
        size = sum(map(len, files.values()))
        tracker.tasks = [{"action": "replicate", "video_id": video_id, "sources": [source.url], "size": size}]
        wait_for(lambda: "360p_00000.m4s" in source.hits, message="the pull reached the segment")
        assert status(edge)["reserved"] > 0  # held while it arrives
        fill(edge.disk, leave=100_000)
        filled.set()
        wait_for(lambda: "abandoned" in edge.logs(), message="the pull ended")
    finally:
        filled.set()
        source.close()
    assert f"the disk of this edge filled while pulling video {video_id}" in edge.logs()
    after = status(edge)
    assert video_id not in after["videos"] and after["reserved"] == 0
    assert leftovers(edge.disk) == []
    assert offers_the_smaller_room(next_announce(tracker, len(tracker.announces)), before, edge.disk)


def test_a_transcode_the_disk_fills_under_fails_507_and_keeps_nothing(edge, tracker, small_clip):
    before = status(edge)
    data = small_clip.read_bytes()
    metadata = "ticket " + base64.b64encode(
        make_ticket(edge.node, size=len(data), upload="transcode").encode()).decode()
    created = requests.post(edge.url + "/api/v1/uploads", timeout=WAIT,
                            headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata})
    assert created.status_code == 201
    offset = 0
    while offset < len(data):
        if offset + CHUNK >= len(data):
            # Before the last chunk: room for it and 200 kB more, a third of what the package needs.
            fill(edge.disk, leave=len(data) - offset + 200_000)
        answer = requests.patch(created.headers["Location"], data=data[offset:offset + CHUNK], timeout=WAIT,
                                headers={**PATCH, "Upload-Offset": str(offset)})
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["Upload-Offset"])
    job_url = answer.headers["Slipstream-Status-Url"]
    job = wait_for(lambda: (j := requests.get(job_url, timeout=WAIT).json())["state"] in ("failed", "published")
                   and j, timeout=120, message="the job ended")
    assert (job["state"], job["error_status"]) == ("failed", 507), job
    assert "disk" in job["error"]
    assert leftovers(edge.disk) == []  # no partial package, no upload
    assert offers_the_smaller_room(next_announce(tracker, len(tracker.announces)), before, edge.disk)


def test_ffmpeg_out_of_disk_is_told_from_a_bad_video(small_disk, small_clip, tmp_path):
    """ffmpeg's HLS muxer exits 0 on a full disk, saying nothing (segmenter/runner.py): the disk it
    leaves full is what tells, before the segmenter removes its files."""
    out = small_disk / "package"
    out.mkdir()
    fill(small_disk, leave=100_000)  # an eighth of what the package needs
    with pytest.raises(EncodeError) as full:
        package(str(small_clip), str(out))
    assert "ffmpeg failed" in str(full.value) and is_disk_full(full.value)
    assert os.listdir(out) == []  # the segmenter removed what it wrote
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(50_000))
    with pytest.raises(SegmenterError) as bad:
        package(str(garbage), str(tmp_path / "bad"))
    assert not is_disk_full(bad.value)
