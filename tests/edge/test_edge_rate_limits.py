"""tus creations are rate-limited per client address (edge/tus.py, EDGE_RATE_UPLOADS): each one may hold
an upload's space for a day, so one address must not open them without end."""
import base64
import os

import pytest

from edge.models import Hold
from tests.edge.faketracker import make_ticket
from tests.edge.uploads import send


@pytest.fixture
def edge_config():
    return {"EDGE_RATE_UPLOADS": 1, "EDGE_RATE_UPLOADS_BURST": 2}


def create(client, node, address, ticket=None):
    ticket = ticket or make_ticket(node, size=100, upload=os.urandom(6).hex())
    return client.post("/api/v1/uploads", environ_base={"REMOTE_ADDR": address}, headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "100",
        "Upload-Metadata": "ticket " + base64.b64encode(ticket.encode()).decode()})


def test_creations_past_the_burst_are_refused_with_retry_after(client, node):
    assert [create(client, node, "192.0.2.1").status_code for _ in range(2)] == [201, 201]
    refused = create(client, node, "192.0.2.1")
    assert refused.status_code == 429 and refused.json["error"] == "too_many_uploads"
    assert "EDGE_RATE_UPLOADS" in refused.json["message"]
    # One token a minute, and the last one was just taken.
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Tus-Resumable"] == "1.0.0"
    assert Hold.select().count() == 2
    assert create(client, node, "192.0.2.2").status_code == 201


def test_an_ipv6_64_is_one_client(client, node):
    assert [create(client, node, f"2001:db8:1:2::{n}").status_code for n in (1, 2, 3)] == [201, 201, 429]
    assert create(client, node, "2001:db8:1:3::1").status_code == 201


def test_the_limit_comes_before_the_ticket_and_spares_form_uploads(client, node):
    for _ in range(2):
        assert create(client, node, "127.0.0.1", ticket="forged").status_code == 401
    # Refused before its ticket is read: no check, no announce to the tracker.
    assert create(client, node, "127.0.0.1", ticket="forged").status_code == 429
    assert send(client, "forged").status_code == 401  # a form upload is not a tus creation


@pytest.mark.parametrize("edge_config", [{"EDGE_RATE_UPLOADS": 0, "EDGE_RATE_UPLOADS_BURST": 1}])
def test_zero_turns_the_limit_off(client, node):
    assert {create(client, node, "192.0.2.1").status_code for _ in range(5)} == {201}
