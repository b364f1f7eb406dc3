"""The website blueprint on a minimal app: pages, 404s, oEmbed, hls.js and static files."""
import os
import re

import pytest

from player.settings import DEFAULTS
from tests.player.fakes import CHANNEL, REMOVED, UNKNOWN, VID, VIDEO, make_app
from tests.servers import free_port

STATIC = os.path.join(os.path.dirname(__file__), "..", "..", "player", "static")


@pytest.fixture
def client():
    return make_app().test_client()


@pytest.fixture
def oembed(fake_tracker):
    # As on a tracker of a local network: its own URL, and loopback lookups allowed.
    client = make_app(SLIPSTREAM_PUBLIC_URL="http://localhost", PLAYER_TRACKER_URL=fake_tracker,
                      TRACKER_ALLOW_PRIVATE=True).test_client()
    return lambda **params: client.get("/oembed", query_string=params)


@pytest.mark.parametrize("path", ["/", "/?q=cats&page=2", "/upload", "/admin", f"/watch/{VID}", f"/embed/{VID}",
                                  f"/watch/{UNKNOWN}", "/channel", f"/c/{CHANNEL}"])
def test_pages_render(client, path):
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/watch/abc", f"/watch/{VID.upper()}", f"/watch/{VID}0", f"/embed/{VID[:-1]}",
                                  f"/embed/{VID[:-1]}g", "/watch/", "/no-such-page",
                                  f"/c/{CHANNEL[:-1]}", f"/c/{CHANNEL.upper()}", f"/c/{VID}/feed.atom"])
def test_bad_ids_and_unknown_paths_are_404(client, path):
    answer = client.get(path)
    assert answer.status_code == 404


@pytest.mark.parametrize("path", ["/watch/abc", f"/embed/{VID[:-1]}"])
def test_bad_id_gets_the_html_not_found_page(client, path):
    answer = client.get(path)
    assert answer.mimetype == "text/html"
    assert "Not found" in answer.get_data(as_text=True)


def test_search_box_keeps_the_query_escaped(client):
    html = client.get("/", query_string={"q": '"><script>alert(1)</script>'}).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_tracker_url_defaults_to_the_page_origin_and_is_configurable():
    assert 'data-tracker=""' in make_app().test_client().get("/").get_data(as_text=True)
    other = make_app(PLAYER_TRACKER_URL="https://tracker.example").test_client()
    assert 'data-tracker="https://tracker.example"' in other.get(f"/watch/{VID}").get_data(as_text=True)


def test_watch_page_has_the_player_and_oembed_discovery(client):
    html = client.get(f"/watch/{VID}").get_data(as_text=True)
    assert f'data-video-id="{VID}"' in html and "<video id=\"player\"" in html
    scripts = re.findall(r'<script defer src="([^"]+)"', html)
    # One bundle of the page's scripts (player/bundles.py), then hls.js: the player starts fetching
    # while the browser still parses it (slipstream-player.js loadHls).
    assert scripts == ["/player/static/watch.bundle.js", "/player/vendor/hls.min.js"]
    assert 'id="slipstream-boot"' not in html  # a video this tracker does not hold: the scripts ask the API
    assert 'type="application/json+oembed"' in html
    assert f"/embed/{VID}" in html  # the embed snippet


def test_embed_page_is_only_the_player_and_may_be_framed(client):
    answer = client.get(f"/embed/{VID}")
    html = answer.get_data(as_text=True)
    assert "<video" in html and 'class="masthead"' not in html and 'class="footer"' not in html
    assert "frame-ancestors *" in answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in client.get(f"/watch/{VID}").headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/", "/upload", "/admin", f"/watch/{VID}", f"/embed/{VID}", "/watch/nope"])
def test_pages_load_nothing_from_other_sites(client, path):
    html = client.get(path).get_data(as_text=True)
    for url in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]*)"', html):
        if 'rel="alternate"' in url:
            continue
        assert url.startswith("/") or url.startswith("http://localhost/"), url


@pytest.mark.parametrize("name", ["slipstream-player.js", "sha256.js", "site.js", "home.js", "watch.js", "embed.js",
                                  "upload.js", "channel-key.js", "your-channel.js",
                                  "channel.js", "site.css", "embed-example.html"])
def test_static_files_are_served(client, name):
    with client.get(f"/player/static/{name}") as answer:
        assert answer.status_code == 200
        assert answer.mimetype in ("text/javascript", "text/css", "text/html")


@pytest.mark.parametrize("page", ["watch", "embed"])
def test_a_page_s_scripts_come_as_one_bundle_of_the_files(client, page):
    from player.bundles import BUNDLES
    html = client.get(f"/{page}/{VID}").get_data(as_text=True)
    assert re.findall(r'<script defer src="([^"]+)"', html)[0] == f"/player/static/{page}.bundle.js"
    answer = client.get(f"/player/static/{page}.bundle.js")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    parts = []
    for name in BUNDLES[f"{page}.bundle.js"]:
        with open(os.path.join(STATIC, name), "rb") as f:
            parts.append(f.read())
    assert answer.data == b"\n;\n".join(parts)  # every file, whole, in the order the page ran them
    again = client.get(f"/player/static/{page}.bundle.js", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_hls_js_is_served_from_node_modules(client):
    with client.get("/player/vendor/hls.min.js") as answer:
        assert answer.status_code == 200 and answer.mimetype == "text/javascript"
        with open(DEFAULTS["PLAYER_HLS_JS"], "rb") as f:
            assert answer.data == f.read()
    with client.get("/player/vendor/hls.min.js", headers={"If-None-Match": answer.headers["ETag"]}) as again:
        assert again.status_code == 304


def test_missing_hls_js_is_a_clear_error(tmp_path):
    client = make_app(PLAYER_HLS_JS=str(tmp_path / "absent.js")).test_client()
    answer = client.get("/player/vendor/hls.min.js")
    assert answer.status_code == 500
    assert "npm ci" in answer.get_data(as_text=True)


@pytest.mark.parametrize("page", ["watch", "embed"])
def test_oembed_describes_a_video_link(oembed, page):
    answer = oembed(url=f"http://localhost/{page}/{VID}", format="json")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["version"] == "1.0" and body["type"] == "video"
    assert body["title"] == "Tide <pools>" and body["author_name"] == "maria"
    assert (body["width"], body["height"]) == (640, 360)
    assert body["html"].startswith(f'<iframe src="http://localhost/embed/{VID}" width="640" height="360"')
    assert 'title="Tide &lt;pools&gt;"' in body["html"]
    assert body["thumbnail_url"] == VIDEO["poster_url"]
    assert (body["thumbnail_width"], body["thumbnail_height"]) == (1280, 720)


def test_oembed_fits_the_consumers_maximum(oembed):
    body = oembed(url=f"http://localhost/watch/{VID}", maxwidth="320").get_json()
    assert (body["width"], body["height"]) == (320, 180)
    body = oembed(url=f"http://localhost/watch/{VID}", maxwidth="1000", maxheight="90").get_json()
    assert (body["width"], body["height"]) == (160, 90)


@pytest.mark.parametrize("params, status, code", [
    ({}, 400, "missing_url"),
    ({"url": f"http://localhost/watch/{VID}", "format": "xml"}, 501, "unsupported_format"),
    ({"url": f"http://localhost/watch/{VID}", "maxwidth": "wide"}, 400, "bad_size"),
    ({"url": f"http://elsewhere.example/watch/{VID}"}, 404, "unknown_url"),
    ({"url": f"ftp://localhost/watch/{VID}"}, 404, "unknown_url"),
    ({"url": "http://localhost/watch/abc"}, 404, "unknown_url"),
    ({"url": f"http://localhost/upload/{VID}"}, 404, "unknown_url"),
    ({"url": f"http://localhost/watch/{UNKNOWN}"}, 404, "unknown_video"),
    ({"url": f"http://localhost/watch/{REMOVED}"}, 404, "unknown_video"),
])
def test_oembed_errors_are_json(oembed, params, status, code):
    answer = oembed(**params)
    assert answer.status_code == status
    assert answer.get_json() == {"error": code, "message": answer.get_json()["message"]}


def test_oembed_still_embeds_when_the_tracker_is_unreachable():
    client = make_app(SLIPSTREAM_PUBLIC_URL="http://localhost", PLAYER_TRACKER_URL=f"http://127.0.0.1:{free_port()}",
                      TRACKER_ALLOW_PRIVATE=True).test_client()
    body = client.get("/oembed", query_string={"url": f"http://localhost/watch/{VID}"}).get_json()
    assert body["type"] == "video" and f"/embed/{VID}" in body["html"]
    assert "thumbnail_url" not in body


# oEmbed never builds a URL from the request's Host (issue 13): the site and the tracker come from
# configuration, and the lookup goes through the guarded client.


def test_a_forged_host_sends_no_request_there(trackers):
    site, decoy = trackers(), trackers()
    client = make_app(SLIPSTREAM_PUBLIC_URL=site.url, TRACKER_ALLOW_PRIVATE=True).test_client()
    forged = {"Host": decoy.url.removeprefix("http://")}
    # A link to the forged host is not a link of this site.
    answer = client.get("/oembed", query_string={"url": f"{decoy.url}/watch/{VID}"}, headers=forged)
    assert (answer.status_code, answer.get_json()["error"]) == (404, "unknown_url")
    # A link of this site is looked up at this site's tracker, and the embed points there too.
    answer = client.get("/oembed", query_string={"url": f"{site.url}/watch/{VID}"}, headers=forged)
    body = answer.get_json()
    assert answer.status_code == 200 and body["title"] == "Tide <pools>"
    assert body["html"].startswith(f'<iframe src="{site.url}/embed/{VID}"')
    assert body["provider_url"] == site.url + "/"
    assert decoy.hits == [] and site.hits == [f"/api/v1/videos/{VID}"]


def test_the_lookup_reaches_a_private_address_only_with_TRACKER_ALLOW_PRIVATE(trackers):
    tracker = trackers()
    client = make_app(SLIPSTREAM_PUBLIC_URL="https://videos.example", PLAYER_TRACKER_URL=tracker.url).test_client()
    answer = client.get("/oembed", query_string={"url": f"https://videos.example/watch/{VID}"})
    body = answer.get_json()
    assert answer.status_code == 200 and body["title"] == "Slipstream video"  # embeds, without the metadata
    assert body["html"].startswith(f'<iframe src="https://videos.example/embed/{VID}"')
    assert tracker.hits == []


def test_without_a_configured_site_no_link_is_this_sites(trackers):
    decoy = trackers()
    client = make_app().test_client()
    answer = client.get("/oembed", query_string={"url": f"{decoy.url}/watch/{VID}"},
                        headers={"Host": decoy.url.removeprefix("http://")})
    assert (answer.status_code, answer.get_json()["error"]) == (404, "unknown_url")
    assert decoy.hits == []


@pytest.mark.parametrize("link", [f"https://localhost/watch/{VID}", f"http://localhost:8000/watch/{VID}",
                                  f"http://localhost:x/watch/{VID}", f"http://user@elsewhere.example/watch/{VID}"])
def test_only_links_of_the_configured_origin_are_this_sites(oembed, link):
    answer = oembed(url=link)
    assert (answer.status_code, answer.get_json()["error"]) == (404, "unknown_url")
