"""A tracker on Flask's test client, and what websites and edges do to it: place an upload, publish a
video, search, ask for sources; `assert_error` holds an answer to the one JSON error shape."""
import secrets
import time
import uuid
from types import SimpleNamespace

import requests

from tests.edges import Edge
from tests.servers import GENEROUS_LIMITS
from tracker import create_app
from tracker.db import database
from tracker.ledger.models import DONOR, Donation
from tracker.nodes.audits import run_pending


def new_video_id():
    return secrets.token_hex(20)


EDGES = {}  # tracker URL -> the edge that registers videos there over HTTP


def register(tracker):
    """A video placed and registered over HTTP at the running `tracker` (tests/servers.py) by its one
    edge: (video id, edge)."""
    edge = EDGES.setdefault(tracker.url, Edge(lasting=True))
    post = lambda path, doc: requests.post(tracker.url + path, json=doc, timeout=10)  # noqa: E731
    assert post("/api/v1/nodes/announce", edge.announce_doc()).status_code == 200
    upload = requests.post(tracker.url + "/api/v1/uploads", json={"title": "far", "size": 10}, timeout=10)
    video_id = edge.make_package()
    registered = post("/api/v1/videos", edge.registration_doc(upload.json()["upload"], video_id))
    assert registered.status_code == 201, registered.text
    return video_id, edge


def make_app(tmp_path, **config):
    """A tracker for Flask's test client; its edges are on loopback, and audits run when a test says
    (audit_all), not in a thread."""
    return create_app({"SLIPSTREAM_DATA_DIR": str(tmp_path), "SLIPSTREAM_PUBLIC_URL": "https://tracker.example",
                       "TESTING": True, "TRACKER_ALLOW_PRIVATE": True, "TRACKER_BACKGROUND": False, **GENEROUS_LIMITS,
                       **config})


def audit_all(app):
    """Audit every copy that is due, as the tracker's auditor thread does within a second."""
    while run_pending(app):
        pass


def place(client, title="A clip", size=1000, **fields):
    return client.post("/api/v1/uploads", json={"title": title, "size": size, **fields})


def publish(client, edge, title="A clip", **fields):
    """Placement then registration of a video on `edge` (the only live edge): returns its id."""
    placement = place(client, title, **fields)
    assert placement.status_code == 200, placement.json
    assert placement.json["node"] == edge.id
    answer = edge.register(client, placement.json["upload"])
    assert answer.status_code == 201, answer.json
    edge.videos.append(answer.json["video_id"])
    return answer.json["video_id"]


def found(client, q):
    """Ids of the videos a catalog search for `q` returns."""
    return [v["id"] for v in client.get("/api/v1/videos", query_string={"q": q}).json["videos"]]


def source_nodes(client, video_id):
    return [s["node"] for s in client.get(f"/api/v1/videos/{video_id}/sources").json["sources"]]


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.json) == {"error", "message"}
    assert response.json["error"] == code
    assert response.headers["Access-Control-Allow-Origin"] == "*"


class OverHttp:
    """The little of Flask's test client that `Edge` and `publish` use, against a real tracker server."""

    def __init__(self, url):
        self.url = url

    def post(self, path, json):
        answer = requests.post(self.url + path, json=json, timeout=10)
        return SimpleNamespace(status_code=answer.status_code, json=answer.json())


def credit(app, account, amount, currency="EUR"):
    """Give `account` money in `app`'s ledger (or a running tracker's, through an app on its data dir)
    through the ledger's own posting of a donation."""
    database.initialize(app.extensions["tracker.db"])
    with database.connection_context():
        gift = {"video_id": "0" * 40, "amount": amount, "currency": currency, "tracker": "tracker:test"}
        Donation.record(uuid.uuid4().hex, gift, [(DONOR, -amount), (account, amount)], [], time.time())
