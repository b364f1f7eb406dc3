"""GET /metrics: Prometheus text, from a registry of this app's own.

Values are read from disk and the database at scrape time, so every gunicorn worker reports the
same numbers whichever one answers.
"""
from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

from .models import Job
from .space import report
from .webrtc.stats import STATS_FILE, read_stats

bp = Blueprint("metrics", __name__)


class EdgeCollector:
    def __init__(self, node):
        self.node = node

    def describe(self):
        return []  # nothing to check at registration; values are only read when scraped

    def collect(self):
        yield InfoMetricFamily("edge", "This edge's identity", value={
            "node": self.node.id, "url": self.node.public_url, "tracker": ",".join(t.url for t in self.node.trackers)})
        space = report(self.node)
        yield GaugeMetricFamily("edge_capacity_bytes", "Bytes this edge offers: EDGE_CAPACITY, or less when "
                                "the disk has less room", value=space["capacity"])
        yield GaugeMetricFamily("edge_disk_free_bytes", "Free disk space less EDGE_DISK_MARGIN",
                                value=self.node.disk_free())
        yield GaugeMetricFamily("edge_used_bytes", "Bytes stored, being written or promised to transfers in "
                                "flight", value=space["used"])
        yield GaugeMetricFamily("edge_free_bytes", "Bytes a new upload or replica may still take",
                                value=space["free"])
        mismatch = GaugeMetricFamily("edge_tracker_key_mismatch", "1 when the tracker answered with a key other "
                                     "than the pinned one", labels=["tracker"])
        for tracker in self.node.trackers:
            mismatch.add_metric([tracker.url], int(tracker.status()["mismatch"]))
        yield mismatch
        yield GaugeMetricFamily("edge_videos", "Published videos", value=len(self.node.published()))
        webrtc = read_stats(self.node.path(STATS_FILE))  # written by the WebRTC loop's process
        yield CounterMetricFamily("edge_webrtc_sent_bytes", "Bytes of package files sent over WebRTC data channels",
                                  value=webrtc.get("sent_bytes", 0))
        yield GaugeMetricFamily("edge_webrtc_peers", "Viewers' WebRTC peer connections open",
                                value=webrtc.get("peers", 0))
        jobs = GaugeMetricFamily("edge_jobs", "Transcoding jobs by state", labels=["state"])
        for state, count in Job.counts().items():
            jobs.add_metric([state], count)
        yield jobs


def make_registry(node):
    registry = CollectorRegistry()
    registry.register(EdgeCollector(node))
    return registry


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(current_app.extensions["edge.metrics"]), content_type=CONTENT_TYPE_LATEST)
