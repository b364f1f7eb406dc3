"""Fixtures of the tracker's tests: a fresh tracker on Flask's test client, on each database."""
import pytest

from tests.tracker.actions import make_app


@pytest.fixture
def tracker_config():
    """Settings a test module gives its trackers (override it there)."""
    return {}


@pytest.fixture(params=["sqlite", "postgresql"])
def app(tmp_path, request, tracker_config):
    """A fresh tracker on each database it supports: SQLite, then a private PostgreSQL server."""
    if request.param == "postgresql":
        return make_app(tmp_path, **tracker_config, DATABASE_URL=request.getfixturevalue("postgres_url"))
    return make_app(tmp_path, **tracker_config)


@pytest.fixture
def client(app):
    return app.test_client()
