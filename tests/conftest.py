import time

import pytest

from tests.actions import announced, wait_for
from tests.clips import make_clip
from tests.servers import start_edge, start_tracker


class Clock:
    """A fake clock for a tracker's CLOCK setting: it stands still until a test moves it."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture(autouse=True)
def close_test_edges():
    """Stop the loopback servers of the `Edge`s a test made (tests/edges.py)."""
    from tests import edges

    yield
    while edges.RUNNING:
        edges.RUNNING.pop().close()


@pytest.fixture
def clock():
    """Pass as `CLOCK=clock` to create_app, then `clock.advance(ttl + 1)` instead of sleeping. It
    starts at the real time, whole seconds (so sums stay exact), so documents signed now are fresh."""
    return Clock(float(int(time.time())))


@pytest.fixture(scope="session")
def clip_720p(tmp_path_factory):
    """A 6 s 720p clip with sound: enough for a two-rendition ladder and a few segments."""
    return make_clip(tmp_path_factory.mktemp("clips") / "clip720.mp4", seconds=6, width=1280, height=720)


@pytest.fixture(scope="session")
def small_clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "clip360.mp4", seconds=4, width=640, height=360)


@pytest.fixture(scope="session")
def network(tmp_path_factory):
    """A real tracker and two real edges under gunicorn on loopback, for the whole session."""
    root = tmp_path_factory.mktemp("network")
    tracker = start_tracker(root / "tracker")
    edges = []
    try:
        edges.append(start_edge(root / "edge1", tracker.url))
        edges.append(start_edge(root / "edge2", tracker.url))
        wait_for(lambda: all(announced(e) for e in edges), message="both edges announced")
        yield Network(tracker, edges)
    finally:
        for server in edges + [tracker]:
            server.stop()


class Network:
    def __init__(self, tracker, edges):
        self.tracker, self.edges = tracker, edges


@pytest.fixture(scope="session")
def published(network, clip_720p):
    """The 720p clip uploaded through the tracker's placement and published by an edge."""
    from tests.actions import upload, wait_published

    placement, job = upload(network.tracker.url, clip_720p, "Integration clip",
                            description="lavfi test pattern", creator="tester")
    done = wait_published(job["status_url"])
    return {"video_id": done["video_id"], "placement": placement, "job": job}


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (Debian's package, installed by `make test`) on a private port."""
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres, request):
    """A fresh empty PostgreSQL database for one test."""
    import re
    import uuid

    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:8]
    return postgres.new_database(name)
