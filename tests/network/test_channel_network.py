"""A channel deletes its video on a real network (gunicorn tracker and two edges on loopback, announce
interval 1 s): the copies on both edges are deleted within two announce intervals, and the tracker no
longer lists it anywhere, BitTorrent included."""
import os

import requests

from tests.actions import announced, holds, send, wait_for, wait_published
from tests.channels import ChannelKey
from tests.servers import start_edge, start_tracker
from tests.tracker.bittorrent import get, scrape_query

INTERVAL = 1  # seconds between announces
PUBLISHED = 180  # seconds a transcode may take on a busy machine


def test_a_deleted_channel_video_leaves_both_edges(tmp_path, small_clip):
    tracker = start_tracker(tmp_path / "tracker", TRACKER_ANNOUNCE_INTERVAL=str(INTERVAL), TRACKER_REPLICAS="2",
                            TRACKER_NODE_TTL="5")
    edges = []
    try:
        edges = [start_edge(tmp_path / f"edge{n}", tracker.url) for n in range(2)]
        wait_for(lambda: all(announced(e) for e in edges), message="both edges announced")
        channel = ChannelKey()
        placement = requests.post(f"{tracker.url}/api/v1/uploads", timeout=10, json=channel.placement(
            "Soon deleted", size=os.path.getsize(small_clip)))
        assert placement.status_code == 200, placement.text
        video_id = wait_published(send(placement.json(), small_clip)["status_url"], timeout=PUBLISHED)["video_id"]
        assert requests.get(f"{tracker.url}/api/v1/videos/{video_id}", timeout=10).json()["channel"] == channel.id
        wait_for(lambda: all(holds(e, video_id) for e in edges), timeout=60, message="a copy on each edge")
        info_hash = bytes.fromhex(video_id)
        wait_for(lambda: get(tracker.url, "/scrape", scrape_query(info_hash))[b"files"][info_hash][b"complete"] == 2,
                 timeout=30, message="BitTorrent counting both edges")

        copies = [os.path.join(e.data_dir, "videos", video_id) for e in edges]
        assert all(os.path.isfile(os.path.join(copy, "manifest.json")) for copy in copies)
        deleted = requests.delete(f"{tracker.url}/api/v1/videos/{video_id}", json=channel.delete(video_id),
                                  timeout=10)
        assert deleted.status_code == 200, deleted.text
        gone = requests.get(f"{tracker.url}/api/v1/videos/{video_id}/sources", timeout=10)
        assert gone.status_code == 410 and gone.json()["error"] == "video_removed"

        # Two announce intervals, and slack for a loaded machine's scheduling; polled, never slept.
        wait_for(lambda: not any(os.path.exists(copy) for copy in copies),
                 timeout=2 * INTERVAL + 8, message="both edges' files deleted")
        assert not any(holds(e, video_id) for e in edges)
        wait_for(lambda: info_hash not in get(tracker.url, "/scrape", scrape_query(info_hash))[b"files"],
                 timeout=10, message="BitTorrent forgetting the video")
    finally:
        for server in [*edges, tracker]:
            server.stop()
