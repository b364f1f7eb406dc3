"""The website blueprint on a minimal app: pages, 404s, oEmbed, hls.js and static files."""
import re
import threading

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from player import create_blueprint
from player.settings import DEFAULTS
from tests.servers import free_port

VID = "3f786850e387550fdab836ed7e6dc881de23001b"
UNKNOWN = "0" * 40
REMOVED = "1" * 40  # deleted by its channel: the tracker answers 410
VIDEO = {
    "id": VID, "title": "Tide <pools>", "description": "waves", "creator": "maria",
    "duration": 6.0, "created": "2025-01-01T00:00:00Z", "poster_url": f"http://edge.test/videos/{VID}/poster.jpg",
    "renditions": [{"name": "720p", "width": 1280, "height": 720, "bandwidth": 3000000},
                   {"name": "360p", "width": 640, "height": 360, "bandwidth": 800000}],
}


def make_app(**config):
    app = Flask(__name__)
    app.config.update(TESTING=True, **config)
    app.register_blueprint(create_blueprint())
    return app


@pytest.fixture
def client():
    return make_app().test_client()


class FakeTracker:
    """A hand-written stand-in for the tracker's metadata endpoint, on a real loopback port, that
    remembers every request it gets."""

    def __init__(self):
        self.hits = []
        fake = Flask("fake_tracker")
        fake.before_request(lambda: self.hits.append(request.path))
        fake.get("/api/v1/videos/<video_id>")(self.video)
        self.server = make_server("127.0.0.1", 0, fake, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def video(self, video_id):
        if video_id == VID:
            return jsonify(VIDEO)
        if video_id == REMOVED:
            return jsonify(error="video_removed", message="this video was deleted by its channel"), 410
        return jsonify(error="not_found", message="no such video"), 404

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def trackers():
    started = []

    def start():
        started.append(FakeTracker())
        return started[-1]
    yield start
    for fake in started:
        fake.close()


@pytest.fixture(scope="module")
def fake_tracker(trackers):
    return trackers().url


@pytest.fixture
def oembed(fake_tracker):
    # As on a tracker of a local network: its own URL, and loopback lookups allowed.
    client = make_app(SLIPSTREAM_PUBLIC_URL="http://localhost", PLAYER_TRACKER_URL=fake_tracker,
                      TRACKER_ALLOW_PRIVATE=True).test_client()
    return lambda **params: client.get("/oembed", query_string=params)


@pytest.mark.parametrize("path", ["/", "/?q=cats&page=2", "/upload", f"/watch/{VID}", f"/embed/{VID}",
                                  f"/watch/{UNKNOWN}"])
def test_pages_render(client, path):
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/watch/abc", f"/watch/{VID.upper()}", f"/watch/{VID}0", f"/embed/{VID[:-1]}",
                                  f"/embed/{VID[:-1]}g", "/watch/", "/no-such-page"])
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
    assert scripts.index("/player/vendor/hls.min.js") < scripts.index("/player/static/slipstream-player.js")
    assert 'type="application/json+oembed"' in html
    assert f"/embed/{VID}" in html  # the embed snippet


def test_embed_page_is_only_the_player_and_may_be_framed(client):
    answer = client.get(f"/embed/{VID}")
    html = answer.get_data(as_text=True)
    assert "<video" in html and 'class="masthead"' not in html and 'class="footer"' not in html
    assert "frame-ancestors *" in answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in client.get(f"/watch/{VID}").headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/", "/upload", f"/watch/{VID}", f"/embed/{VID}", "/watch/nope"])
def test_pages_load_nothing_from_other_sites(client, path):
    html = client.get(path).get_data(as_text=True)
    for url in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]*)"', html):
        if 'rel="alternate"' in url:
            continue
        assert url.startswith("/") or url.startswith("http://localhost/"), url


@pytest.mark.parametrize("name", ["slipstream-player.js", "sha256.js", "site.js", "home.js", "watch.js", "embed.js",
                                  "upload.js", "resumable.js", "site.css", "embed-example.html"])
def test_static_files_are_served(client, name):
    with client.get(f"/player/static/{name}") as answer:
        assert answer.status_code == 200
        assert answer.mimetype in ("text/javascript", "text/css", "text/html")


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
