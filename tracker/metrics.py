"""Prometheus metrics, in a registry of the app's own so that several apps can share a process.

Counters are per gunicorn worker (Prometheus sums them per instance label); the gauges read the
database, so every worker reports the same figure.
"""
from flask import Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest


# The codes of the 429s (ratelimits.py, catalog/models.py, nodes/reports.py), shown as zeros from the start.
RATE_LIMIT_CODES = ("too_many_placements", "too_much_reserved", "too_many_donations", "too_many_lookups",
                    "too_many_reports")


class Metrics:
    def __init__(self, app):
        from .catalog.models import Video
        from .nodes.models import Node

        self.registry = CollectorRegistry()
        self.announces = Counter("tracker_announces", "Signed edge announces, by result",
                                 ["result"], registry=self.registry)
        self.placements = Counter("tracker_placements", "Upload placements, by result",
                                  ["result"], registry=self.registry)
        self.registrations = Counter("tracker_registrations", "Videos registered by edges",
                                     registry=self.registry)
        self.rate_limited = Counter("tracker_rate_limited", "Requests refused past a per-address limit, by its code",
                                    ["code"], registry=self.registry)
        for code in RATE_LIMIT_CODES:
            self.rate_limited.labels(code)
        for result in ("accepted", "stopped", "refused"):
            self.announces.labels(result)  # show zeros before the first announce
        for result in ("placed", "no_space"):
            self.placements.labels(result)
        Gauge("tracker_live_nodes", "Edges that announced within the node TTL", registry=self.registry) \
            .set_function(lambda: Node.live_count(app.config["CLOCK"](), app.config["TRACKER_NODE_TTL"]))
        Gauge("tracker_videos", "Videos in the catalog", registry=self.registry) \
            .set_function(lambda: Video.select().count())


def init_app(app):
    app.extensions["tracker.metrics"] = Metrics(app)


def current():
    return current_app.extensions["tracker.metrics"]


def exposition():
    return Response(generate_latest(current().registry), content_type=CONTENT_TYPE_LATEST)
