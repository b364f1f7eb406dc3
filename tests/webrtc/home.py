"""A home edge on loopback, for tests and bench/webrtc.py: a video uploaded to an edge while it was
reachable, then the same edge restarted announcing a URL nobody listens on, so the tracker can reach it
only through its signalling socket (it still listens on its own port, for HTTP side by side)."""
import os

import requests

from protocol.datachannel import gather_on
from tests.actions import announced, send, wait_for, wait_published
from tests.servers import free_port, start_edge, start_tracker
from tests.webrtc.viewer import sources

LOOPBACK = "127.0.0.1"


class Home:
    def __init__(self):
        self.servers, self.tracker, self.edge, self.video_id, self.url = [], None, None, None, None
        self.http_source = None
        self.stun = free_port()

    def start(self, root, clip, **tracker_env):
        gather_on([LOOPBACK])  # this process's ICE agent, like the servers', gathers on loopback only
        self.tracker = self.started(start_tracker(
            root / "tracker", WEB_CONCURRENCY="2", TRACKER_STUN_PORT=str(self.stun), TRACKER_STUN_HOST=LOOPBACK,
            SLIPSTREAM_ICE_ADDRESSES=LOOPBACK, **tracker_env))
        edge = self.started(start_edge(root / "edge", self.tracker.url, SLIPSTREAM_ICE_ADDRESSES=LOOPBACK))
        wait_for(lambda: announced(edge), message="the edge announced")
        # Listed for placements once the tracker has taken its announce with room (a loaded machine may
        # answer the first announce before the node counts as live with its capacity).
        placement = wait_for(lambda: placed(self.tracker.url, clip), timeout=60, message="a placement on the edge")
        job = send(placement, clip)
        self.video_id = wait_published(job["status_url"], timeout=600)["video_id"]
        # While its URL is open: an http source, which an https page may only reach through the tracker.
        self.http_source = wait_for(lambda: source_with(self.tracker.url, self.video_id, "http", "token"),
                                    message="the edge's socket beside its http URL")
        edge.stop()
        self.url = f"http://{LOOPBACK}:{free_port()}"
        self.edge = self.started(start_edge(root / "edge", self.tracker.url, SLIPSTREAM_ICE_ADDRESSES=LOOPBACK,
                                            SLIPSTREAM_PUBLIC_URL=self.url))
        wait_for(lambda: webrtc_source(self.tracker.url, self.video_id), timeout=60, message="a webrtc source")
        return self

    def started(self, server):
        self.servers.append(server)
        return server

    def stop(self):
        for server in reversed(self.servers):
            server.stop()


def placed(tracker_url, path):
    """The tracker's placement of `path`, or None while no edge has room."""
    answer = requests.post(f"{tracker_url}/api/v1/uploads", json={"title": "Home clip", "size": os.path.getsize(path)},
                           timeout=10)
    return answer.json() if answer.status_code == 200 else None


def webrtc_source(tracker_url, video_id):
    return source_with(tracker_url, video_id, "webrtc")


def source_with(tracker_url, video_id, reach, *fields):
    """The video's first source of that reach and with those fields, or None."""
    answer = sources(tracker_url, video_id)
    return next((s for s in answer["sources"] if s["reach"] == reach and all(f in s for f in fields)), None)
