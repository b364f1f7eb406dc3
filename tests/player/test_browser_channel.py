"""A creator's whole story in Chromium, every step signed in the browser: make a channel, name it,
upload as it, edit the video, find it on the channel's page and feed, receive a gift there, make the
video unlisted, claim a payout (and be refused a larger one), delete the video."""
import feedparser
import pytest
import requests

pytestmark = pytest.mark.browser

NAME = "Käthes Kanal — 日本"


def tracker(network, path):
    return requests.get(network.tracker.url + path, timeout=5)


def saved(tab, selector):
    """The text of a status line once it shows an outcome (ok or error)."""
    tab.wait(f"(document.querySelector({selector!r}) || {{}}).dataset?.kind", message=f"an answer in {selector}")
    return tab.page.text_content(selector)


def test_a_channel_uploads_edits_hides_is_paid_and_deletes(network, small_clip, tab, tmp_path):
    page = tab.open(network.tracker.url + "/channel")
    page.on("dialog", lambda dialog: dialog.accept())  # confirm() before a deletion
    page.click("#key-create")
    tab.wait("document.getElementById('key-channel').textContent.length === 64", message="the new key")
    channel = page.text_content("#key-channel")
    page.fill("#profile-name", NAME)
    page.fill("#profile-description", "Wellen & Gezeiten")
    page.click("#profile-save")
    assert saved(tab, "#profile-status") == "Saved."
    answer = tracker(network, f"/api/v1/channels/{channel}").json()
    assert (answer["name"], answer["description"], answer["account"]) == (NAME, "Wellen & Gezeiten", f"channel:{channel}")

    # The upload page signs the placement with the channel's key.
    tab.open(network.tracker.url + "/upload")
    tab.wait("!document.getElementById('upload-channel').hidden", message="the channel on the upload page")
    assert page.is_checked("#upload-as-channel") and not page.is_visible("#upload-creator")
    status = tab.upload(small_clip, "Ebbe", description="erste Fassung")
    assert status == "Published.", status
    video_id = tab.uploaded_video()
    video = tracker(network, f"/api/v1/videos/{video_id}").json()
    assert (video["channel"], video["visibility"], video["creator"]) == (channel, "public", NAME)

    # The video page links to its channel.
    tab.open(f"{network.tracker.url}/watch/{video_id}")
    tab.wait("document.getElementById('video-channel') !== null", message="the channel link")
    assert page.get_attribute("#video-channel", "href") == f"/c/{channel}"
    assert page.text_content("#video-channel") == NAME

    # Edit title and description on the owner's page.
    tab.open(network.tracker.url + "/channel")
    item = f"form[data-video-id='{video_id}']"
    tab.wait(f"document.querySelector(\"{item}\") !== null", message="the video on the owner's page")
    page.fill(f"{item} [name=title]", "Ebbe und Flut")
    page.fill(f"{item} [name=description]", "zweite Fassung")
    page.click(f"{item} button[type=submit]")
    assert saved(tab, f"{item} .status") == "Saved."
    video = tracker(network, f"/api/v1/videos/{video_id}").json()
    assert (video["title"], video["description"]) == ("Ebbe und Flut", "zweite Fassung")

    # The channel's public page and its feed list it; a gift there goes to the channel's account.
    tab.open(f"{network.tracker.url}/c/{channel}")
    tab.wait("document.querySelectorAll('#channel-videos .card').length === 1", message="the channel's videos")
    assert page.text_content("#channel-name") == NAME
    assert page.text_content("#channel-videos .card-title") == "Ebbe und Flut"
    feed = feedparser.parse(tracker(network, f"/c/{channel}/feed.atom").content)
    assert not feed.bozo and feed.feed.title == NAME
    assert [(e.title, e.link, e.summary) for e in feed.entries] == [
        ("Ebbe und Flut", f"{network.tracker.url}/watch/{video_id}", "zweite Fassung")]
    page.click("#channel-donate summary")
    page.fill("#donate-amount", "5")
    page.click("#donate-submit")
    assert saved(tab, "#donate-status").startswith("Thank you!")
    balance = tracker(network, f"/api/v1/accounts/channel:{channel}").json()["balances"]["EUR"]
    assert balance > 0

    # Unlisted: out of the channel's public list and feed, still the owner's to manage.
    tab.open(network.tracker.url + "/channel")
    tab.wait(f"document.querySelector(\"{item}\") !== null", message="the video on the owner's page")
    page.select_option(f"{item} [name=visibility]", "unlisted")
    page.click(f"{item} button[type=submit]")
    assert saved(tab, f"{item} .status") == "Saved."
    assert tracker(network, f"/api/v1/videos/{video_id}").json()["visibility"] == "unlisted"
    assert tracker(network, f"/api/v1/channels/{channel}").json()["videos"] == []
    assert feedparser.parse(tracker(network, f"/c/{channel}/feed.atom").content).entries == []

    # Money: the balance and its entry, a payout within it, and a clear refusal past it.
    page.reload()
    tab.wait(f"document.querySelector(\"{item}\") !== null", message="the unlisted video, in the owner's listing")
    assert page.text_content(f"{item} .video-visibility") == "unlisted"
    tab.wait("document.querySelector('#account-balances li') !== null", message="the balance")
    assert page.get_attribute("#account-balances li", "data-amount") == str(balance)
    assert "Gift for" in page.text_content("#account-entries tbody")
    page.fill("#payout-amount", "2")
    page.fill("#payout-destination", "DE89 3704 0044 0532 0130 00")
    page.click("#payout-submit")
    assert "requested" in saved(tab, "#payout-status") and "(pending)" in page.text_content("#payout-status")
    tab.wait(f"document.querySelector('#account-balances li').dataset.amount === '{balance - 200}'",
             message="the balance after the payout")
    assert "Payout requested" in page.text_content("#account-entries tbody")
    page.fill("#payout-amount", "1000")
    page.click("#payout-submit")
    tab.wait("document.getElementById('payout-status').dataset.kind === 'error'", message="the refusal")
    assert page.text_content("#payout-status").startswith("Not enough money in the channel's account")
    tab.screenshot(tmp_path, "your-channel.png")

    # Delete: gone from the tracker (410) and from the owner's page.
    page.click(f"{item} [data-action=delete]")
    tab.wait(f"document.querySelector(\"{item}\") === null", message="the deletion")
    assert page.text_content("#videos-status").startswith("Deleted")
    assert tracker(network, f"/api/v1/videos/{video_id}").status_code == 410
    # Expected refusals only: no channel/account before the first save and gift, the payout past the
    # balance.
    assert [p for p in tab.problems if not any(f"status of {s}" in p for s in (404, 422))] == []
