"""Resumable uploads (tus 1.0) and capacity holds, on an edge served on loopback, driven by tuspy."""
import base64
import http.client
import io
import os
import threading
import time
import urllib.parse

import pytest
import requests
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from werkzeug.serving import make_server

from edge import create_app
from edge.capacity import reserve, sweep
from edge.jobs import JobLock
from edge.models import Hold, Job, db
from tests.servers import free_port
from tests.edge.faketracker import make_ticket

TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def edge(tmp_path, tracker):
    port = free_port()
    app = create_app({
        "SLIPSTREAM_DATA_DIR": str(tmp_path / "edge"),
        "SLIPSTREAM_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "EDGE_TRACKER_URL": tracker.url,
        "EDGE_CAPACITY": "10MB",
        "EDGE_MAX_UPLOAD": "8MB",
        "EDGE_BACKGROUND": False,
    })
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield Edge(app, server.server_port)
    server.shutdown()
    server.server_close()
    thread.join()
    db.close()


class Edge:
    def __init__(self, app, port):
        self.app, self.node = app, app.extensions["edge"]
        self.url = f"http://127.0.0.1:{port}"
        self.uploads = self.url + "/api/v1/uploads"

    def ticket(self, size, **changes):
        return make_ticket(self.node, size=size, upload=os.urandom(6).hex(), **changes)

    def create(self, length, ticket=None, **headers):
        meta = "ticket " + base64.b64encode((ticket or self.ticket(length)).encode()).decode()
        return requests.post(self.uploads, timeout=10, headers={
            **TUS, "Upload-Length": str(length), "Upload-Metadata": meta, **headers})


def uploader(edge, data, ticket=None, url=None, chunk_size=64 * 1024):
    metadata = {"ticket": ticket or edge.ticket(len(data)), "filename": "clip.mp4"}
    return tus_client.TusClient(edge.uploads).uploader(
        file_stream=io.BytesIO(data), url=url, chunk_size=chunk_size, metadata=metadata, retries=0)


def test_options_discovers_the_protocol(edge):
    answer = requests.options(edge.uploads, timeout=5)
    assert answer.status_code in (200, 204)
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert set(answer.headers["Tus-Extension"].split(",")) == {"creation", "termination"}
    assert answer.headers["Tus-Max-Size"] == str(8 * 10**6)


def test_preflight_allows_tus_from_another_origin(edge):
    answer = requests.options(edge.uploads + "/" + "a" * 16, timeout=5, headers={
        "Origin": "https://site.example", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "tus-resumable, upload-offset, content-type"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    methods = set(answer.headers["Access-Control-Allow-Methods"].replace(" ", "").split(","))
    assert {"PATCH", "HEAD", "DELETE"} <= methods
    allowed = answer.headers["Access-Control-Allow-Headers"]
    assert all(name in allowed for name in ("Tus-Resumable", "Upload-Offset", "Upload-Length", "Upload-Metadata"))
    exposed = answer.headers["Access-Control-Expose-Headers"]
    assert all(name in exposed for name in ("Location", "Upload-Offset", "Tus-Version", "Slipstream-Job"))


def test_an_interrupted_transfer_resumes_with_a_new_uploader(edge):
    data = os.urandom(700_000)
    first = uploader(edge, data)
    first.upload(stop_at=200_000)  # the browser tab closes here
    assert first.url.startswith(edge.uploads + "/")
    upload_id = first.url.rsplit("/", 1)[1]
    assert os.path.getsize(edge.node.part_path(upload_id)) == first.offset < len(data)

    second = uploader(edge, data, url=first.url)  # a new page, the stored URL
    assert second.offset == first.offset  # it asked the edge with HEAD
    second.upload()
    head = requests.head(first.url, headers=TUS, timeout=5)
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Slipstream-Job"] == upload_id
    assert head.headers["Slipstream-Status-Url"] == f"{edge.url}/api/v1/jobs/{upload_id}"
    with open(edge.node.upload_path(upload_id), "rb") as f:
        assert f.read() == data
    with db.connection_context():
        assert Job.find(upload_id).state == "queued" and Hold.select().count() == 0
    assert requests.get(head.headers["Slipstream-Status-Url"], timeout=5).json()["state"] == "queued"


def test_the_last_patch_answers_with_the_job(edge):
    data = b"v" * 1000
    location = edge.create(len(data)).headers["Location"]
    answer = requests.patch(location, data=data, timeout=5, headers={
        **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert answer.status_code == 204 and answer.headers["Upload-Offset"] == "1000"
    assert answer.headers["Tus-Resumable"] == "1.0.0"
    assert answer.headers["Slipstream-Job"] == location.rsplit("/", 1)[1]


def test_bytes_that_arrived_before_a_disconnect_are_kept(edge):
    location = edge.create(100_000).headers["Location"]
    url = urllib.parse.urlsplit(location)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    connection.putrequest("PATCH", url.path)
    for name, value in {**TUS, "Upload-Offset": "0", "Content-Length": "100000",
                        "Content-Type": "application/offset+octet-stream"}.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(b"a" * 30_000)
    connection.close()  # the network drops mid-body

    def offset():
        return int(requests.head(location, headers=TUS, timeout=5).headers["Upload-Offset"])
    deadline = time.monotonic() + 10
    while offset() != 30_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert offset() == 30_000


def test_termination_frees_the_space(edge):
    data = os.urandom(300_000)
    up = uploader(edge, data)
    up.upload(stop_at=100_000)
    assert requests.delete(up.url, headers=TUS, timeout=5).status_code == 204
    assert requests.head(up.url, headers=TUS, timeout=5).status_code == 404
    assert os.listdir(edge.node.uploads) == []
    with db.connection_context():
        assert Hold.select().count() == 0
    with pytest.raises(Exception):
        uploader(edge, data, url=up.url).upload()


@pytest.mark.parametrize("case, status, code", [
    ("no ticket", 401, "missing_ticket"),
    ("expired ticket", 401, "ticket_expired"),
    ("other node", 403, "wrong_node"),
    ("longer than the ticket", 413, "too_large"),
    ("over the maximum", 413, "too_large"),
    ("no room", 507, "insufficient_storage"),
    ("old protocol", 412, "tus_version"),
    ("bad length", 400, "bad_header"),
])
def test_creation_refusals_store_nothing(edge, case, status, code):
    length, ticket, headers = 1000, None, {}
    if case == "no ticket":
        answer = requests.post(edge.uploads, headers={**TUS, "Upload-Length": "10"}, timeout=5)
    else:
        if case == "expired ticket":
            ticket = edge.ticket(length, expires_in=-1)
        elif case == "other node":
            ticket = edge.ticket(length, node="ab" * 32)
        elif case == "longer than the ticket":
            ticket = edge.ticket(999)
        elif case == "over the maximum":
            length = 9 * 10**6
        elif case == "no room":
            with open(os.path.join(edge.node.videos, "filler"), "wb") as f:
                f.truncate(10**7 - 999)
        elif case == "old protocol":
            headers = {"Tus-Resumable": "0.2.2"}
        elif case == "bad length":
            headers = {"Upload-Length": "-5"}
        answer = edge.create(length, ticket, **headers)
    assert (answer.status_code, answer.json()["error"]) == (status, code), answer.text
    if case == "old protocol":
        assert answer.headers["Tus-Version"] == "1.0.0"
    assert os.listdir(edge.node.uploads) == []


def test_metadata_values_are_opaque_bytes_but_must_be_base64(edge):
    """tus leaves metadata values to the application: bytes that are not UTF-8 are taken (as U+FFFD
    in what the edge reads), and only a value that is not base64 is refused."""
    ticket = base64.b64encode(edge.ticket(10).encode()).decode()
    taken = requests.post(edge.uploads, timeout=5, headers={
        **TUS, "Upload-Length": "10", "Upload-Metadata": f"ticket {ticket},filename /w==,note //79"})
    assert taken.status_code == 201, taken.text
    refused = requests.post(edge.uploads, timeout=5, headers={
        **TUS, "Upload-Length": "10", "Upload-Metadata": f"ticket {ticket},filename not-base64!"})
    assert (refused.status_code, refused.json()["error"]) == (400, "bad_metadata")


def test_patch_refusals(edge):
    location = edge.create(10).headers["Location"]
    patch = {**TUS, "Content-Type": "application/offset+octet-stream"}
    answer = requests.patch(location, data=b"abc", headers={**patch, "Upload-Offset": "5"}, timeout=5)
    assert (answer.status_code, answer.headers["Upload-Offset"]) == (409, "0")
    answer = requests.patch(location, data=b"abc", headers={**TUS, "Upload-Offset": "0"}, timeout=5)
    assert answer.status_code == 415
    answer = requests.patch(location, data=b"x" * 11, headers={**patch, "Upload-Offset": "0"}, timeout=5)
    assert answer.status_code == 413
    assert requests.head(location, headers=TUS, timeout=5).headers["Upload-Offset"] == "0"
    with JobLock(edge.node, location.rsplit("/", 1)[1]):  # another worker is writing it
        answer = requests.patch(location, data=b"abc", headers={**patch, "Upload-Offset": "0"}, timeout=5)
    assert answer.status_code == 423
    for path in ("/api/v1/uploads/" + "z" * 16, "/api/v1/uploads/..%2f..%2fnode.key"):
        assert requests.head(edge.url + path, headers=TUS, timeout=5).status_code == 404


def test_a_ticket_opens_one_upload(edge):
    ticket = edge.ticket(100)
    assert edge.create(100, ticket).status_code == 201
    answer = edge.create(100, ticket)
    assert (answer.status_code, answer.json()["error"]) == (409, "ticket_used")


def test_uploads_in_flight_hold_their_declared_size(edge):
    """Capacity 10 MB: two 6 MB uploads cannot both start, though neither has sent a byte."""
    assert edge.create(6 * 10**6).status_code == 201
    second = edge.create(6 * 10**6)
    assert (second.status_code, second.json()["error"]) == (507, "insufficient_storage")
    form = requests.post(edge.uploads, data={"ticket": edge.ticket(5 * 10**6)},
                         files={"file": ("clip.mp4", b"x" * 100)}, timeout=10)
    assert form.status_code == 507


def test_sweep_removes_what_dead_receivers_left(edge):
    node = edge.node
    with db.connection_context():
        reserve(node, "f" * 16, "form", 500, time.time() + 60)  # a form receiver that was killed
        reserve(node, "t" * 16, "tus", 500, time.time() + 7200)  # a paused tus upload: kept
        reserve(node, "e" * 16, "tus", 500, time.time() - 1)  # an abandoned one, expired
    for name in ("f" * 16 + ".part", "t" * 16 + ".part", "e" * 16 + ".part", "orphan.upload"):
        with open(os.path.join(node.uploads, name), "wb") as f:
            f.write(b"x" * 10)
    young = time.time()
    assert sorted(sweep(node, now=young)) == sorted(["f" * 16, "e" * 16])
    assert sorted(os.listdir(node.uploads)) == ["orphan.upload", "t" * 16 + ".part"]
    assert sweep(node, now=young + 3600) == ["orphan.upload"]  # old enough to be nobody's
    with db.connection_context():
        assert [h.id for h in Hold.select()] == ["t" * 16]


def test_tuspy_reports_a_refused_creation(edge):
    with pytest.raises((TusCommunicationError, Exception)):
        uploader(edge, b"x" * 100, ticket="forged").upload()


def test_an_upload_lives_as_long_as_its_ticket(tmp_path, tracker, clock):
    """Its space is held, and it may be resumed, until the ticket's `expires`; then it is unknown,
    and the sweep removes its bytes and its hold. The app's clock moves; nothing sleeps."""
    app = create_app({"SLIPSTREAM_DATA_DIR": str(tmp_path / "edge"), "SLIPSTREAM_PUBLIC_URL": "http://edge.test",
                      "EDGE_TRACKER_URL": tracker.url, "EDGE_BACKGROUND": False, "CLOCK": clock})
    node, client = app.extensions["edge"], app.test_client()
    expires = clock.now + 600
    ticket = make_ticket(node, size=100, upload="lives", expires=expires)
    created = client.post("/api/v1/uploads", headers={
        **TUS, "Upload-Length": "100", "Upload-Metadata": "ticket " + base64.b64encode(ticket.encode()).decode()})
    upload = created.headers["Location"].removeprefix("http://edge.test")
    patch = {**TUS, "Content-Type": "application/offset+octet-stream"}
    assert client.patch(upload, headers={**patch, "Upload-Offset": "0"}, data=b"x" * 10).status_code == 204
    with db.connection_context():
        assert Hold.get().expires == expires
    clock.advance(599)
    assert client.head(upload, headers=TUS).headers["Upload-Offset"] == "10"
    assert sweep(node) == [] and client.get("/api/v1/status").json["reserved"] == 90
    clock.advance(1)
    assert client.head(upload, headers=TUS).status_code == 404
    assert client.patch(upload, headers={**patch, "Upload-Offset": "10"}, data=b"x" * 10).status_code == 404
    assert sweep(node) == [upload[-16:]]
    assert os.listdir(node.uploads) == [] and client.get("/api/v1/status").json["reserved"] == 0
    db.close()
