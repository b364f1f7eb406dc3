"""A real tracker (gunicorn, two workers) on the test PostgreSQL loses its database connections under
load: the server ends them (`pg_terminate_backend`), as a restart or a failover does. Requests hit by
the fault answer 503 `database_unavailable` with Retry-After, never a 500 or a hang, and the tracker
recovers by itself."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import requests

from tests.actions import wait_for
from tests.edges import Edge
from tests.servers import start_tracker
from tracker.bittorrent.videoindex import CACHE_TTL

KINDS = ("sources", "announce", "scrape")
THREADS = 2 * len(KINDS)
TERMINATIONS = 40  # rounds of the fault at most, until a request was caught by it


def terminate_backends(database_url):
    """End every connection to the tracker's database but our own."""
    name = database_url.rsplit("/", 1)[1]
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
    finally:
        conn.close()


class Load:
    """Sources lookups, signed announces and BitTorrent scrapes from THREADS threads until stopped;
    every answer is kept as (kind, status, Retry-After, body, monotonic time)."""

    def __init__(self, tracker, video):
        self.tracker, self.video = tracker, video
        self.answers, self.lock, self.stopped = [], threading.Lock(), threading.Event()
        self.pool = ThreadPoolExecutor(THREADS)

    def __enter__(self):
        self.futures = [self.pool.submit(self.run, KINDS[n % len(KINDS)]) for n in range(THREADS)]
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        for future in self.futures:
            future.result(timeout=60)
        self.pool.shutdown()

    def run(self, kind):
        session, url = requests.Session(), self.tracker.url
        edge = Edge()  # one per thread: a node's announces must arrive in the order they were signed
        while not self.stopped.is_set():
            try:
                if kind == "sources":
                    answer = session.get(f"{url}/api/v1/videos/{self.video}/sources", timeout=10)
                elif kind == "scrape":
                    answer = session.get(f"{url}/scrape", params={"info_hash": bytes.fromhex(self.video)}, timeout=10)
                else:
                    answer = session.post(f"{url}/api/v1/nodes/announce", json=edge.announce_doc(), timeout=10)
                status = answer.status_code
                if kind == "scrape" and b"failure reason" in answer.content:
                    status = "failure reason"  # BEP 3: a refusal is a 200 that says why
                seen = (kind, status, answer.headers.get("Retry-After"), answer.text, time.monotonic())
            except requests.RequestException as exc:  # a hang shows as a timeout here
                seen = (kind, "no answer", None, str(exc), time.monotonic())
            with self.lock:
                self.answers.append(seen)

    def since(self, mark=0):
        with self.lock:
            return self.answers[mark:]

    def recovered(self, mark, after):
        """Every kind answered 10 times in a row with success since `mark`, the last after `after`."""
        answers = self.since(mark)
        return all(len(ok) >= 10 and all(s == 200 for s in ok[-10:]) and times[-1] > after
                   for ok, times in ([[a[1] for a in answers if a[0] == kind], [a[4] for a in answers if a[0] == kind]]
                                     for kind in KINDS))


def publish(tracker, edge):
    post = lambda path, body: requests.post(tracker.url + path, json=body, timeout=10)
    assert post("/api/v1/nodes/announce", edge.announce_doc()).status_code == 200
    placement = post("/api/v1/uploads", {"title": "Load", "size": 1000}).json()
    registered = post("/api/v1/videos", edge.registration_doc(placement["upload"], edge.make_package()))
    assert registered.status_code == 201, registered.text
    return registered.json()["video_id"]


def test_dropped_postgresql_connections_answer_503_and_recover(postgres_url, tmp_path):
    tracker = start_tracker(tmp_path / "tracker", DATABASE_URL=postgres_url, WEB_CONCURRENCY="2",
                            TRACKER_ANNOUNCE_INTERVAL="120")
    try:
        video = publish(tracker, Edge())
        spec = requests.get(tracker.url + "/api/v1/openapi.json", timeout=10).json()["paths"]
        with Load(tracker, video) as load:
            wait_for(lambda: load.recovered(0, 0), timeout=60, message="the load running")
            for _ in range(TERMINATIONS):
                mark = len(load.since())
                terminate_backends(postgres_url)
                wait_for(lambda mark=mark: len(load.since(mark)) >= 2 * THREADS, timeout=30,
                         message="answers after the fault")
                if any(a[1] != 200 for a in load.since()):
                    break
            mark, fault = len(load.since()), time.monotonic()
            # The BitTorrent paths cache catalog answers for CACHE_TTL: recovered means past that too.
            wait_for(lambda: load.recovered(mark, fault + CACHE_TTL + 1), timeout=60,
                     message="every kind of request succeeding again")
        answers = load.since()
        assert tracker.proc.poll() is None  # recovered without a restart
    finally:
        tracker.stop()
    for path, method in (("/api/v1/videos/{video_id}/sources", "get"), ("/api/v1/nodes/announce", "post")):
        assert "Retry-After" in spec[path][method]["responses"]["503"]["headers"]
    refused = [a for a in answers if a[1] != 200]
    assert refused, "no request was caught by the fault"
    for kind, status, retry_after, body, _ in refused:
        if kind == "scrape":
            assert status == "failure reason" and "database" in body, (status, body)
            continue
        assert status == 503, (kind, status, body)
        assert retry_after is not None and int(retry_after) >= 1, body
        assert '"error":"database_unavailable"' in body.replace(" ", ""), body
