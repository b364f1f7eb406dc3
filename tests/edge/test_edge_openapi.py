"""/api/v1/openapi.json describes the whole edge API: every route, and real answers match it."""
import base64
import io
import re

import pytest

from edge import create_app
from edge.jobs import JobLock
from edge.models import db
from tests.openapi_check import errors, header_errors, resolve, response_schema
from tests.edge.faketracker import TRACKER_ID, make_ticket
from tests.edge.package import PACKAGE, published_video

TOKEN = "s3cret"
TUS = {"Tus-Resumable": "1.0.0"}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Documented, but no test makes the edge fail on purpose.
UNPRODUCED = {"500"}
# Answers that need a full disk: tests/edge/test_full_disk.py makes them and holds them to the document.
ON_A_FULL_DISK = {("/api/v1/uploads/{upload_id}", "patch", "507")}


def make_app(data_dir, tracker_url, **config):
    return create_app({
        "SLIPSTREAM_DATA_DIR": str(data_dir), "SLIPSTREAM_PUBLIC_URL": "http://edge.test",
        "EDGE_TRACKER_URL": tracker_url, "EDGE_CAPACITY": "1MB", "EDGE_MAX_UPLOAD": "2MB",
        "EDGE_ADMIN_TOKEN": TOKEN, "EDGE_BACKGROUND": False, **config})


@pytest.fixture
def app(tmp_path, tracker):
    yield make_app(tmp_path / "edge", tracker.url)
    db.close()


@pytest.fixture
def spec(app):
    return app.test_client().get("/api/v1/openapi.json").json


class Checked:
    """Makes real requests and holds each answer to the document; remembers which statuses it saw."""

    def __init__(self, app, spec):
        self.client, self.spec, self.seen = app.test_client(), spec, set()

    def __call__(self, method, template, status, url=None, **kwargs):
        answer = self.client.open(url or template, method=method.upper(), **kwargs)
        body = answer.get_data()
        answer.close()
        where = f"{method.upper()} {url or template} → {answer.status_code}"
        assert answer.status_code == status, f"{where}: {body[:200]!r}"
        documented = self.spec["paths"][template][method]["responses"]
        assert str(status) in documented, f"{where} is not documented"
        problems = header_errors(answer.headers, self.spec, template, method, status)
        if body:
            assert answer.mimetype in documented[str(status)].get("content", {}), f"{where}: {answer.mimetype}"
            if answer.is_json:
                problems += errors(answer.json, response_schema(self.spec, template, method, status), self.spec)
        assert not problems, f"{where}: {problems}"
        self.seen.add((template, method, str(status)))
        return answer


def form(ticket, data=b"x" * 100):
    return {"data": {"ticket": ticket, "file": (io.BytesIO(data), "clip.mp4")}, "content_type": "multipart/form-data"}


def metadata(ticket):
    return "ticket " + base64.b64encode(ticket.encode()).decode() + ",filename " + base64.b64encode(b"clip.mp4").decode()


def test_real_answers_match_the_document(app, spec, tmp_path, tracker):
    call, node = Checked(app, spec), app.extensions["edge"]
    uploads = "/api/v1/uploads"

    def create(length, ticket=None, **headers):
        ticket = ticket or make_ticket(node, size=length, upload=f"up-{length}-{len(call.seen)}")
        return {"headers": {**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata(ticket), **headers}}

    # The multipart form.
    ticket = make_ticket(node, size=100, upload="form")
    job = call("post", uploads, 202, **form(ticket)).json["job"]
    call("post", uploads, 409, **form(ticket))
    call("post", uploads, 400, json={"ticket": ticket})
    call("post", uploads, 401, **form("not-a-ticket"))
    call("post", uploads, 403, **form(make_ticket(node, size=100, upload="other", node="f" * 64)))
    # tus creation, and its refusals.
    call("post", uploads, 412, headers={"Tus-Resumable": "0.2.2"})
    call("post", uploads, 400, headers={**TUS, "Upload-Length": "ten"})
    call("post", uploads, 401, headers={**TUS, "Upload-Length": "10"})
    call("post", uploads, 413, **create(3 * 10**6))
    call("post", uploads, 507, **create(15 * 10**5))
    call("options", uploads, 200)
    location = call("post", uploads, 201, **create(10)).headers["Location"]
    upload = location.removeprefix("http://edge.test")
    # tus: resume, append, finish; the refusals on the way.
    item = "/api/v1/uploads/{upload_id}"
    assert call("head", item, 200, upload, headers=TUS).headers["Upload-Offset"] == "0"
    call("head", item, 404, "/api/v1/uploads/" + "a" * 16, headers=TUS)
    call("head", item, 412, upload)
    patch = {"headers": {**TUS, "Upload-Offset": "0"}, "content_type": "application/offset+octet-stream"}
    call("patch", item, 415, upload, headers=patch["headers"], data=b"12345")
    call("patch", item, 400, upload, headers={**TUS, "Upload-Offset": "x"}, content_type=patch["content_type"])
    call("patch", item, 412, upload, content_type=patch["content_type"], data=b"12345")
    call("patch", item, 413, upload, **patch, data=b"x" * 11)
    call("patch", item, 404, "/api/v1/uploads/" + "a" * 16, **patch, data=b"12345")
    with JobLock(node, upload[-16:]):
        call("patch", item, 423, upload, **patch, data=b"12345")
        call("delete", item, 423, upload, headers=TUS)
    call("patch", item, 204, upload, **patch, data=b"12345")
    call("patch", item, 409, upload, **patch, data=b"12345")
    done = call("patch", item, 204, upload, **{**patch, "headers": {**TUS, "Upload-Offset": "5"}}, data=b"67890")
    assert "Slipstream-Job" in done.headers
    call("delete", item, 409, upload, headers=TUS)
    dropped = call("post", uploads, 201, **create(20)).headers["Location"].removeprefix("http://edge.test")
    call("delete", item, 204, dropped, headers=TUS)
    call("delete", item, 404, dropped, headers=TUS)
    call("delete", item, 412, upload)
    # Jobs, status, health, metrics, this document.
    call("get", "/api/v1/jobs/{job_id}", 200, f"/api/v1/jobs/{job}")
    call("get", "/api/v1/jobs/{job_id}", 404, "/api/v1/jobs/" + "a" * 16)
    for path in ("/api/v1/status", "/healthz", "/metrics", "/api/v1/openapi.json"):
        call("get", path, 200)
    # Published files.
    video_id = published_video(node)
    files = "/videos/{video_id}/{name}"
    segment = f"/videos/{video_id}/360p_00000.m4s"
    etag = call("get", files, 200, segment).headers["ETag"]
    call("get", files, 200, f"/videos/{video_id}/manifest.json")
    call("get", files, 206, segment, headers={"Range": "bytes=0-9"})
    call("get", files, 304, segment, headers={"If-None-Match": etag})
    call("get", files, 412, segment, headers={"If-Match": '"other"'})
    call("get", files, 416, segment, headers={"Range": f"bytes={len(PACKAGE['360p_00000.m4s'])}-"})
    call("get", files, 404, f"/videos/{video_id}/unlisted.m4s")
    app.config["EDGE_ACCEL_REDIRECT"] = "/internal"
    assert call("get", files, 200, segment).headers["X-Accel-Redirect"] == f"/internal/{video_id}/360p_00000.m4s"
    app.config["EDGE_ACCEL_REDIRECT"] = None
    # A tracker's challenge (edge/proof.py).
    proof = "/api/v1/proof"
    challenge = {"challenge": "c" * 64, "tracker": TRACKER_ID, "url": "http://edge.test"}
    call("post", proof, 200, json=challenge)
    call("post", proof, 400, json={**challenge, "challenge": "C" * 64})
    call("post", proof, 403, json={**challenge, "url": "http://elsewhere.test"})
    call("post", proof, 413, json={**challenge, "url": "x" * 9000})
    # Operator actions.
    video = "/api/v1/videos/{video_id}"
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    call("delete", video, 401, f"/api/v1/videos/{video_id}")
    call("delete", video, 403, f"/api/v1/videos/{video_id}", headers={"Authorization": "Bearer wrong"})
    call("delete", video, 404, "/api/v1/videos/" + "0" * 40, headers=bearer)
    call("delete", video, 202, f"/api/v1/videos/{video_id}", headers=bearer)
    # The deny-list (edge/deny.py), and the 451 of a denied video's files.
    deny, denied = "/api/v1/deny/{video_id}", f"/api/v1/deny/{video_id}"
    for method, template, url in (("get", "/api/v1/deny", None), ("post", deny, denied), ("delete", deny, denied)):
        call(method, template, 401, url)
        call(method, template, 403, url, headers={"Authorization": "Bearer wrong"})
        if method != "get":
            call(method, template, 400, "/api/v1/deny/not-an-id", headers=bearer)
    call("post", deny, 201, denied, headers=bearer, json={"reason": "a court order"})
    call("get", files, 451, segment)
    call("get", "/api/v1/deny", 200, headers=bearer)
    call("delete", deny, 200, denied, headers=bearer)
    call("delete", deny, 404, denied, headers=bearer)
    # An edge whose tracker is gone.
    lonely = make_app(tmp_path / "lonely", "http://127.0.0.1:9")
    lonely_call = Checked(lonely, spec)
    lonely_call("post", uploads, 503, **form(ticket))
    lonely_call("delete", video, 502, f"/api/v1/videos/{published_video(lonely.extensions['edge'])}", headers=bearer)
    call.seen |= lonely_call.seen
    # An address past its rate of tus creations (EDGE_RATE_UPLOADS).
    limited_call = Checked(make_app(tmp_path / "limited", tracker.url, EDGE_RATE_UPLOADS=1, EDGE_RATE_UPLOADS_BURST=1),
                           spec)
    limited_call("post", uploads, 401, headers={**TUS, "Upload-Length": "10"})
    assert int(limited_call("post", uploads, 429, headers={**TUS, "Upload-Length": "10"}).headers["Retry-After"]) > 0
    call.seen |= limited_call.seen

    documented = {(path, method, status) for path, item in spec["paths"].items()
                  for method, operation in item.items() if method in METHODS
                  for status in operation["responses"]}
    assert {seen for seen in documented - call.seen - ON_A_FULL_DISK if seen[2] not in UNPRODUCED} == set()


def test_every_route_is_documented_and_every_documented_path_is_a_route(app, spec):
    documented = {(path, method) for path, item in spec["paths"].items() for method in item if method in METHODS}
    served, required = set(), set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        methods = {method.lower() for method in rule.methods}
        # Flask answers OPTIONS, and HEAD where there is a GET, by itself.
        automatic = {"options"} if rule.provide_automatic_options else set()
        automatic |= {"head"} if "get" in methods else set()
        served |= {(path, method) for method in methods}
        required |= {(path, method) for method in methods - automatic}
    assert required - documented == set(), "routes missing from the document"
    assert documented - served == set(), "documented operations the edge does not serve"


def test_the_document_holds_together(spec):
    assert spec["openapi"] == "3.1.0"
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            parameters = [resolve(p, spec) for p in item.get("parameters", []) + operation.get("parameters", [])]
            assert {p["name"] for p in parameters if p["in"] == "path"} == set(re.findall(r"{(\w+)}", path)), path
            assert operation["responses"] and all(re.fullmatch(r"[1-5]\d\d", s) for s in operation["responses"])
            for parameter in parameters:
                assert parameter.get("required") or parameter["in"] != "path"
                if "pattern" in parameter["schema"]:
                    re.compile(parameter["schema"]["pattern"])
    refs = re.findall(r'"\$ref": "([^"]+)"', str(spec).replace("'", '"'))
    assert refs and all(resolve({"$ref": target}, spec) for target in refs)
