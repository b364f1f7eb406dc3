"""Sources lookups answered by the tracker's worker itself (tracker/catalog/lookups.py): Flask's answer
to the byte, given while every Flask thread is busy, in order with whatever is pipelined around them;
what that path cannot answer (refusals, a query, an unknown id) still gets Flask's own answer."""
import concurrent.futures
import socket

import pytest
import requests

from tests.servers import start_tracker
from tests.tracker.actions import new_video_id, register

NOT_COMPARED = {"date", "server", "connection", "keep-alive"}  # Server: gunicorn's answers only


@pytest.fixture
def silent_peer():
    """A peer tracker that accepts connections and never answers: a lookup of an unknown video holds a
    Flask thread for the federation's timeout."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def tracker(tmp_path):
    server = start_tracker(tmp_path, WEB_CONCURRENCY="1", GUNICORN_THREADS="1", TRACKER_NODE_TTL="600")
    yield server
    server.stop()
    assert "Traceback" not in server.logs()


@pytest.fixture
def busy_tracker(tmp_path, silent_peer):
    server = start_tracker(tmp_path, WEB_CONCURRENCY="1", GUNICORN_THREADS="1", TRACKER_PEERS=silent_peer,
                           TRACKER_FEDERATION_TIMEOUT="10", TRACKER_FEDERATION_HOPS="1", TRACKER_NODE_TTL="600")
    yield server
    server.stop()
    assert "Traceback" not in server.logs()


def headers_of(answer):
    return {name.lower(): value for name, value in answer.headers.items() if name.lower() not in NOT_COMPARED}


def test_a_lookup_is_flasks_answer_given_while_flask_is_busy(busy_tracker):
    tracker = busy_tracker
    video_id, edge = register(tracker)
    url = f"{tracker.url}/api/v1/videos/{video_id}/sources"
    # Through gunicorn and Flask: a query (hops), and a head that closes the connection.
    flask = [requests.get(url, params={"hops": "1"}, timeout=10),
             requests.get(url, headers={"Connection": "close"}, timeout=10)]
    assert all(answer.status_code == 200 for answer in flask)
    assert flask[0].headers["Server"].startswith("gunicorn")  # so these are gunicorn's, not the fast path's
    assert flask[0].json()["sources"] == [{"node": edge.id, "url": edge.url, "reach": "http"}]
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        held = pool.submit(requests.get, f"{tracker.url}/api/v1/videos/{new_video_id()}/sources?hops=1", timeout=60)
        for _ in range(3):
            answer = requests.get(url, timeout=10)
            assert "Server" not in answer.headers  # the worker's own answer
            assert answer.status_code == 200 and answer.content == flask[0].content == flask[1].content
            assert headers_of(answer) == headers_of(flask[0]) == headers_of(flask[1])
        head = requests.head(url, timeout=10)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["Content-Length"] == str(len(flask[0].content))
        assert not held.done()  # every answer above came while Flask's only thread was held
        assert held.result().status_code in (404, 504)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def test_pipelined_lookups_and_refusals_are_answered_in_order(tracker):
    video_id, _ = register(tracker)
    unknown = new_video_id()
    # A lookup of an unknown id is taken by the worker and handed to Flask once the database says so.
    paths = [f"/api/v1/videos/{video_id}/sources", f"/api/v1/videos/{unknown}/sources",
             f"/api/v1/videos/{video_id}/sources", "/api/v1/videos/" + "AB" * 20 + "/sources",
             f"/api/v1/videos/{video_id}/sources?hops=0", f"/api/v1/videos/{unknown}/sources",
             f"/api/v1/videos/{video_id}/sources"]
    with socket.create_connection(("127.0.0.1", int(tracker.url.rsplit(":", 1)[1])), timeout=30) as sock:
        sock.sendall(b"".join(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for path in paths))
        answers = read_answers(sock, len(paths))
    assert [status for status, _ in answers] == [200, 404, 200, 400, 200, 404, 200]
    assert b'"unknown_video"' in answers[1][1] and b'"invalid_video_id"' in answers[3][1]
    assert answers[0][1] == answers[2][1] == answers[4][1] == answers[6][1]
    assert f'"video_id":"{video_id}"'.encode() in answers[0][1]


def test_what_the_worker_cannot_answer_alone_is_flasks(tracker):
    video_id, _ = register(tracker)
    for path, status, code in ((f"/api/v1/videos/{new_video_id()}/sources", 404, "unknown_video"),
                               (f"/api/v1/videos/{video_id.upper()}/sources", 400, "invalid_video_id"),
                               (f"/api/v1/videos/{video_id}/sources?hops=x", 400, "invalid_hops")):
        answer = requests.get(tracker.url + path, timeout=10)
        assert (answer.status_code, answer.json()["error"]) == (status, code), path
        assert answer.headers["Server"].startswith("gunicorn")


def read_answers(sock, count):
    """[(status, body)] of `count` answers with a Content-Length read from `sock`."""
    data, answers = b"", []
    while len(answers) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode("latin-1").lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            if len(data) >= head_end + 4 + length:
                answers.append((int(head.split()[1]), data[head_end + 4:head_end + 4 + length]))
                data = data[head_end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed after {len(answers)} answers"
        data += chunk
    return answers
