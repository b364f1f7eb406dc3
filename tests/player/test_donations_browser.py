"""The watch page's donate form in a real Chromium, against the session's real tracker and edges."""
import pytest
import requests

from tests.player.chromium import PLAYING

pytestmark = pytest.mark.browser

SPLIT_SHOWN = "document.querySelectorAll('#donate-split li').length >= 3"


def gifts_to_tester(tracker_url):
    """How many gifts the clip's creator has had (other tests share this tracker)."""
    answer = requests.get(f"{tracker_url}/api/v1/accounts/creator:tester", timeout=10)
    return answer.json()["total"] if answer.ok else 0


def test_donating_from_the_watch_page_shows_the_split_and_posts_it(network, published, tab, tmp_path):
    page = tab.open(f"{network.tracker.url}/watch/{published['video_id']}")
    tab.wait(PLAYING, message="the video playing, so edges have served bytes")
    page.click("details.donate summary")
    page.fill("#donate-amount", "2.50")
    tab.wait(SPLIT_SHOWN + " && document.querySelector('#donate-split li').dataset.amount === '225'",
             message="the split of 2.50 EUR: creator, edges, tracker")
    shown = page.eval_on_selector_all("#donate-split li", "items => items.map(i => [i.dataset.account, "
                                                          "Number(i.dataset.amount)])")
    assert shown[0] == ["creator:tester", 225] and sum(amount for _, amount in shown) == 250
    assert any(account.startswith("node:") for account, _ in shown)

    before = gifts_to_tester(network.tracker.url)
    page.click("#donate-submit")
    tab.wait("Boolean(document.getElementById('donate-form').dataset.donation)", message="the donation answer")
    donation = page.get_attribute("#donate-form", "data-donation")
    assert "Thank you" in page.text_content("#donate-status")

    tab.screenshot(tmp_path, "watch-donated.png")
    statement = requests.get(f"{network.tracker.url}/api/v1/accounts/creator:tester", timeout=10).json()
    assert statement["total"] == before + 1
    assert statement["entries"][0]["donation"] == donation and statement["entries"][0]["amount"] == 225
    assert tab.problems == []
