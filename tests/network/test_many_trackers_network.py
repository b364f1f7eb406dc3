"""Two real trackers and two real edges, each edge announcing to both (issue 16, item 4)."""
import shutil

import pytest
import requests

from tests.actions import upload, wait_for, wait_published
from tests.servers import Server, start_edge, start_tracker


def pinned_everywhere(edge):
    trackers = requests.get(edge.url + "/api/v1/status", timeout=5).json()["trackers"]
    return all(t["pinned"] and not t["mismatch"] for t in trackers) and trackers


@pytest.fixture(scope="module")
def two_trackers(tmp_path_factory):
    root = tmp_path_factory.mktemp("many-trackers")
    servers = []
    try:
        first = start_tracker(root / "t1")
        servers.append(first)
        second = start_tracker(root / "t2", TRACKER_PEERS=first.url)
        servers.append(second)
        for name in ("e1", "e2"):
            servers.append(start_edge(root / name, f"{first.url},{second.url}"))
        for edge in servers[2:]:
            wait_for(lambda edge=edge: pinned_everywhere(edge), message="the edge announced to both trackers")
        yield servers
    finally:
        for server in reversed(servers):
            server.stop()


def test_every_edge_pins_each_tracker_key_on_its_own(two_trackers):
    first, second, *edges = two_trackers
    keys = [[t["pinned"] for t in pinned_everywhere(edge)] for edge in edges]
    assert keys[0] == keys[1] and len(set(keys[0])) == 2
    assert [t["url"] for t in pinned_everywhere(edges[0])] == [first.url, second.url]


@pytest.mark.parametrize("through", [0, 1])
def test_an_upload_through_either_tracker_is_registered_with_it(two_trackers, small_clip, through):
    tracker = two_trackers[through]
    placement, job = upload(tracker.url, small_clip, f"Through tracker {through + 1}")
    video_id = wait_published(job["status_url"])["video_id"]
    assert requests.get(f"{tracker.url}/api/v1/videos/{video_id}", timeout=5).json()["title"] == \
        f"Through tracker {through + 1}"
    sources = wait_for(lambda: requests.get(f"{tracker.url}/api/v1/videos/{video_id}/sources", timeout=5)
                       .json()["sources"], timeout=30, message="an audited source")
    assert placement["node"] in [s["node"] for s in sources]


def accepted_announces(tracker):
    metrics = requests.get(tracker.url + "/metrics", timeout=5).text
    return sum(float(line.split()[-1]) for line in metrics.splitlines()
               if line.startswith('tracker_announces_total{result="accepted"}'))


def test_a_tracker_with_a_changed_key_does_not_stop_announces_to_the_other(two_trackers, small_clip):
    first, second, *edges = two_trackers
    second.stop()
    shutil.rmtree(second.data_dir)  # a new data dir: a new tracker key at the same URL
    impostor = Server("tracker", second.data_dir, {**second.env}, port=second.port).start()
    two_trackers[1] = impostor
    # The edges prove their URL only to the pinned keys, so the impostor never lists them.
    before = accepted_announces(first)
    # Past the node TTL (3 s at the tests' 1 s interval, two edges): the first tracker still hears
    # from both edges, places uploads on them, and they publish.
    wait_for(lambda: accepted_announces(first) >= before + 10, timeout=30, message="announces to the first tracker")
    assert requests.post(f"{impostor.url}/api/v1/uploads", json={"title": "x", "size": 10},
                         timeout=5).status_code == 507
    for edge in edges:
        assert "did not prove" in edge.logs() and pinned_everywhere(edge)  # the pin stays
    _, job = upload(first.url, small_clip, "After the key change")
    assert wait_published(job["status_url"])["state"] == "published"
