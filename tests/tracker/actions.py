"""A tracker on Flask's test client, and what websites and edges do to it: place an upload, publish a
video, search, ask for sources; `assert_error` holds an answer to the one JSON error shape."""
import secrets

from tests.servers import GENEROUS_LIMITS
from tracker import create_app
from tracker.nodes.audits import run_pending


def new_video_id():
    return secrets.token_hex(20)


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
