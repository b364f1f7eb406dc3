"""Fixtures of the edge's tests: the fake tracker (one a module), and a fresh edge app on Flask's test
client with a temporary data dir."""
import pytest

from edge import create_app
from edge.models import db
from tests.edge.faketracker import TRACKER_ID, FakeTracker


@pytest.fixture(scope="module")
def tracker():
    fake = FakeTracker()
    yield fake
    fake.close()


@pytest.fixture
def edge_config():
    """Settings a test module adds to its edge app's (by defining a fixture of this name)."""
    return {}


@pytest.fixture
def app(tmp_path, tracker, edge_config):
    tracker.announces.clear()
    tracker.registrations.clear()
    tracker.drops.clear()
    tracker.tasks, tracker.key = [], TRACKER_ID
    tracker.refuse_registration, tracker.unavailable = None, False
    app = create_app({
        "SLIPSTREAM_DATA_DIR": str(tmp_path / "edge"),
        "SLIPSTREAM_PUBLIC_URL": "http://edge.test",
        "EDGE_TRACKER_URL": tracker.url,
        "EDGE_CAPACITY": "10MB",
        "EDGE_MAX_UPLOAD": "1MB",
        "EDGE_BACKGROUND": False,
        **edge_config,
    })
    yield app
    db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def node(app):
    return app.extensions["edge"]
