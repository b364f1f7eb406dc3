"""The channel pages on a minimal app: `/c/<channel>`, its Atom feed read by a real feed parser, the
owner's `/channel` page, and the vendored browser libraries (tus-js-client, @noble/ed25519)."""
import json
import os

import feedparser
import pytest

from player.settings import ROOT
from tests.player.fakes import CHANNEL, CHANNEL_ANSWER, VID, make_app

SITE = "https://videos.example"


@pytest.fixture
def site(fake_tracker):
    return make_app(SLIPSTREAM_PUBLIC_URL=SITE, PLAYER_TRACKER_URL=fake_tracker,
                    TRACKER_ALLOW_PRIVATE=True).test_client()


def test_the_feed_is_valid_atom_of_the_channels_public_videos(site):
    answer = site.get(f"/c/{CHANNEL}/feed.atom")
    assert answer.status_code == 200 and answer.mimetype == "application/atom+xml"
    feed = feedparser.parse(answer.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Gärten & <Meer>" and feed.feed.subtitle == "Wellen, Gezeiten — und mehr"
    assert feed.feed.id == f"{SITE}/c/{CHANNEL}"
    assert {link.rel: link.href for link in feed.feed.links} == {
        "alternate": f"{SITE}/c/{CHANNEL}", "self": f"{SITE}/c/{CHANNEL}/feed.atom"}
    assert feed.feed.updated == "2025-02-01T10:00:00Z"  # the newest video's
    first, second = feed.entries
    assert first.id == first.link == f"{SITE}/watch/{'1' * 40}"
    assert first.title == "Ebbe & Flut"
    # Text, not HTML: a description's markup is shown as written, never interpreted.
    assert first.summary == "Zweiter Teil <b>nicht fett</b>" and first.summary_detail.type == "text/plain"
    assert first.updated == "2025-02-01T10:00:00Z"
    assert second.link == f"{SITE}/watch/{VID}" and second.updated == "2025-01-01T00:00:00Z"
    assert len(feed.entries) == len(CHANNEL_ANSWER["videos"])


def test_an_unknown_channel_has_no_feed(site):
    answer = site.get(f"/c/{'ef' * 32}/feed.atom")
    assert answer.status_code == 404


def test_a_tracker_that_cannot_answer_is_a_clear_502(site):
    answer = site.get(f"/c/{'cd' * 32}/feed.atom")
    assert answer.status_code == 502
    assert answer.get_json()["error"] == "tracker_unavailable"


def test_the_channel_page_is_a_shell_that_names_its_feed(site):
    html = site.get(f"/c/{CHANNEL}").get_data(as_text=True)
    assert f'data-channel="{CHANNEL}"' in html
    assert f'type="application/atom+xml" title="Videos of this channel"\n        href="/c/{CHANNEL}/feed.atom"' in html
    assert 'id="donate-form"' in html


def test_the_owners_page_warns_that_a_lost_key_is_a_lost_channel(site):
    html = site.get("/channel").get_data(as_text=True)
    assert "the channel is lost for good" in html
    for element in ("key-create", "key-export", "key-import", "profile-form", "my-videos", "payout-form"):
        assert f'id="{element}"' in html


def test_the_upload_page_sends_with_tus_js_client_not_resumable_js(site):
    html = site.get("/upload").get_data(as_text=True)
    assert "/player/vendor/tus.min.js" in html and "resumable.js" not in html
    assert "/player/static/channel-key.js" in html


@pytest.mark.parametrize("name, package, file", [
    ("tus.min.js", "tus-js-client", "dist/tus.min.js"),
    ("noble-ed25519.js", "@noble/ed25519", "index.js"),
])
def test_vendored_libraries_are_the_pinned_npm_files(site, name, package, file):
    with open(os.path.join(ROOT, "package.json")) as f:
        pinned = json.load(f)["dependencies"][package]
    with open(os.path.join(ROOT, "node_modules", package, "package.json")) as f:
        assert json.load(f)["version"] == pinned  # exactly what package.json pins
    with site.get(f"/player/vendor/{name}") as answer:
        assert answer.status_code == 200 and answer.mimetype == "text/javascript"
        with open(os.path.join(ROOT, "node_modules", package, file), "rb") as f:
            assert answer.data == f.read()
    assert site.get("/player/vendor/other.js").status_code == 404
