"""The website's scripts and styles come from the tracker worker's memory (tracker/static.py): the
same answer Flask gives, and given while every Flask thread is busy."""
import concurrent.futures
import os
import socket

import requests

from tests.servers import start_tracker

PLAYER_STATIC = os.path.join(os.path.dirname(__file__), "..", "..", "player", "static")
NOT_COMPARED = {"date", "expires", "server", "connection", "keep-alive"}  # Expires: now + max-age; Server: gunicorn only


def test_player_files_come_from_memory_while_flask_is_busy(tmp_path):
    # A peer tracker that accepts connections and never answers: a lookup of an unknown video holds
    # the only Flask thread for the federation's timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    tracker = start_tracker(tmp_path, WEB_CONCURRENCY="1", GUNICORN_THREADS="1",
                            TRACKER_PEERS=f"http://127.0.0.1:{silent.getsockname()[1]}",
                            TRACKER_FEDERATION_TIMEOUT="10", TRACKER_FEDERATION_HOPS="1")
    pool = concurrent.futures.ThreadPoolExecutor(2)
    try:
        names = sorted(os.listdir(PLAYER_STATIC))
        paths = [f"/player/static/{name}" for name in names] + ["/player/vendor/hls.min.js"]
        flask = {path: requests.get(tracker.url + path, timeout=10) for path in paths}  # and each is taken
        assert all(answer.status_code == 200 for answer in flask.values())
        for name in names:
            with open(os.path.join(PLAYER_STATIC, name), "rb") as f:
                assert flask[f"/player/static/{name}"].content == f.read(), name

        # (With a query: a plain lookup is taken by the worker first, tracker/catalog/lookups.py.)
        held = pool.submit(requests.get, tracker.url + "/api/v1/videos/" + "ab" * 20 + "/sources?hops=1", timeout=60)
        silent.settimeout(30)
        asked, _ = silent.accept()  # the lookup holds Flask's thread now: it is asking the peer
        busy = pool.submit(requests.get, tracker.url + "/api/v1/videos", timeout=60)  # queued behind it
        for path in paths:
            answer = requests.get(tracker.url + path, timeout=10)
            assert answer.status_code == 200 and answer.content == flask[path].content, path
            assert headers_of(answer) == headers_of(flask[path]), path
        assert requests.head(tracker.url + paths[0], timeout=10).headers["Content-Length"] == \
            flask[paths[0]].headers["Content-Length"]
        # Every answer above came while Flask's one thread was still held by the lookup.
        assert not held.done() and not busy.done()
        # What is not a plain GET of a player file is Flask's: a conditional request gets its 304.
        etag = flask[paths[0]].headers["ETag"]
        assert pool.submit(requests.get, tracker.url + paths[0], headers={"If-None-Match": etag},
                           timeout=60).result().status_code == 304
        assert held.result().status_code in (404, 504) and busy.result().ok
        asked.close()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        tracker.stop()
        silent.close()
    assert "Traceback" not in tracker.logs()


def headers_of(answer):
    return {name.lower(): value for name, value in answer.headers.items() if name.lower() not in NOT_COMPARED}
