"""The website as the real tracker serves it under gunicorn, with a published video."""
import pytest
import requests


@pytest.mark.parametrize("path, status", [("/", 200), ("/upload", 200), ("/watch/{vid}", 200), ("/embed/{vid}", 200),
                                          ("/watch/not-an-id", 404), ("/player/static/slipstream-player.js", 200),
                                          ("/player/vendor/hls.min.js", 200)])
def test_the_tracker_serves_the_website(network, published, path, status):
    answer = requests.get(network.tracker.url + path.format(vid=published["video_id"]), timeout=5)
    assert answer.status_code == status


def test_oembed_on_the_tracker_reads_the_catalog(network, published):
    vid = published["video_id"]
    answer = requests.get(f"{network.tracker.url}/oembed",
                          params={"url": f"{network.tracker.url}/watch/{vid}", "format": "json"}, timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["type"], body["title"], body["author_name"]) == ("video", "Integration clip", "tester")
    assert f'src="{network.tracker.url}/embed/{vid}"' in body["html"]
    assert body["thumbnail_url"].endswith(f"/videos/{vid}/poster.jpg")
    assert (body["thumbnail_width"], body["thumbnail_height"]) == (1280, 720)


def test_oembed_on_the_tracker_refuses_unknown_videos(network):
    answer = requests.get(f"{network.tracker.url}/oembed",
                          params={"url": f"{network.tracker.url}/watch/{'0' * 40}"}, timeout=10)
    assert answer.status_code == 404 and answer.json()["error"] == "unknown_video"
