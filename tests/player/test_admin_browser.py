"""The operator's page (/admin) in a real Chromium, against a real tracker with the operator API on:
the token typed in and kept in sessionStorage only, flags taken down or dismissed, payouts marked
paid or rejected, and the ledger balanced after."""
import pytest
import requests

from tests.channels import ChannelKey
from tests.edges import Edge
from tests.servers import start_tracker
from tests.tracker.actions import OverHttp, credit, make_app, publish
from tracker.db import database
from tracker.ledger.audit import check

pytestmark = pytest.mark.browser

TOKEN = "operator-page-token"
READY = "document.body.dataset.adminReady === 'true'"


def count(selector):
    return f"document.querySelectorAll('{selector}').length"


@pytest.fixture
def site(tmp_path):
    """A tracker with two flagged videos (a fake edge holds them) and a channel with two pending payouts."""
    tracker = start_tracker(tmp_path / "tracker", TRACKER_ADMIN_TOKEN=TOKEN)
    try:
        http, edge = OverHttp(tracker.url), Edge()
        assert edge.announce(http).status_code == 200
        videos = [publish(http, edge, title=title) for title in ("Spam clip", "Stolen clip")]
        for n, video in enumerate(videos):
            answer = requests.post(f"{tracker.url}/api/v1/videos/{video}/flags", timeout=10,
                                   json={"reason": ["spam", "copyright"][n], "note": f"note {n}"})
            assert answer.status_code == 201
        ledger = make_app(tracker.data_dir)
        channel = ChannelKey()
        credit(ledger, channel.account, 1000)
        payouts = [requests.post(f"{tracker.url}/api/v1/payouts", json=channel.claim(amount=amount), timeout=10)
                   .json()["payout"] for amount in (300, 200)]
        yield tracker, ledger, videos, channel, payouts
    finally:
        tracker.stop()


def test_the_operator_acts_on_flags_and_payouts(site, tab, tmp_path):
    tracker, ledger, videos, channel, payouts = site
    page = tab.open(f"{tracker.url}/admin")
    page.fill("#admin-token", "wrong")
    page.click("#admin-login button[type=submit]")
    tab.wait("document.getElementById('admin-status').dataset.kind === 'error'", message="the refusal shown")
    assert "wrong operator token" in page.text_content("#admin-status")
    assert page.is_hidden("#admin-panels")
    tab.problems.clear()  # the browser logs the 403 it was answered

    page.fill("#admin-token", TOKEN)
    page.click("#admin-login button[type=submit]")
    tab.wait(READY, message="the operator's lists")
    assert page.evaluate("sessionStorage.getItem('slipstream.adminToken')") == TOKEN
    assert tab.context.cookies() == []  # never a cookie
    assert page.evaluate(count("#flags > li")) == 2 and page.evaluate(count("#payouts > li")) == 2
    assert "Stolen clip" in page.text_content(f'li[data-video-id="{videos[1]}"]')
    tab.screenshot(tmp_path, "admin-open.png")

    first = f'li[data-video-id="{videos[0]}"]'
    page.fill(f"{first} .admin-reason", "spam network")
    page.click(f"{first} button[data-action=takedown]")
    tab.wait(count(first) + " === 0", message="the video taken down, its flags closed")
    gone = requests.get(f"{tracker.url}/api/v1/videos/{videos[0]}", timeout=10)
    assert gone.status_code == 410

    page.click(f'li[data-video-id="{videos[1]}"] button[data-action=dismiss]')
    tab.wait(count("#flags > li") + " === 0", message="the dismissed video gone")
    assert page.is_visible("#flags-empty")
    admin = {"Authorization": f"Bearer {TOKEN}"}
    assert requests.get(f"{tracker.url}/api/v1/admin/flags", headers=admin, timeout=10).json()["videos"] == []
    assert requests.get(f"{tracker.url}/api/v1/videos/{videos[1]}", timeout=10).status_code == 200

    paid, rejected = (f'li[data-payout="{payout}"]' for payout in payouts)
    page.fill(f"{paid} .admin-note", "SEPA 2026-12-02 #77")
    page.click(f"{paid} button[data-action=paid]")
    tab.wait(count(paid) + " === 0", message="the paid payout gone from pending")
    page.click(f"{rejected} button[data-action=reject]")
    assert "reason" in page.text_content("#admin-status")  # nothing sent without one
    page.fill(f"{rejected} .admin-note", "not an IBAN")
    page.click(f"{rejected} button[data-action=reject]")
    tab.wait(count("#payouts > li") + " === 0", message="no payout pending")
    assert page.is_visible("#payouts-empty")
    tab.screenshot(tmp_path, "admin.png")

    decided = requests.get(f"{tracker.url}/api/v1/admin/payouts", headers=admin, timeout=10).json()["payouts"]
    assert {(p["payout"], p["state"], p["reference"] or p["reason"]) for p in decided} == {
        (payouts[0], "paid", "SEPA 2026-12-02 #77"), (payouts[1], "rejected", "not an IBAN")}
    account = requests.get(f"{tracker.url}/api/v1/accounts/{channel.account}", timeout=10).json()
    assert account["balances"] == {"EUR": 700}
    database.initialize(ledger.extensions["tracker.db"])
    with database.connection_context():
        assert check() == []
    assert tab.problems == []
