"""The website blueprint on a minimal app, and a hand-written stand-in for the tracker's JSON API."""
import threading

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from player import create_blueprint

VID = "3f786850e387550fdab836ed7e6dc881de23001b"
UNKNOWN = "0" * 40
REMOVED = "1" * 40  # deleted by its channel: the tracker answers 410
VIDEO = {
    "id": VID, "title": "Tide <pools>", "description": "waves", "creator": "maria",
    "duration": 6.0, "created": "2025-01-01T00:00:00Z", "poster_url": f"http://edge.test/videos/{VID}/poster.jpg",
    "renditions": [{"name": "720p", "width": 1280, "height": 720, "bandwidth": 3000000},
                   {"name": "360p", "width": 640, "height": 360, "bandwidth": 800000}],
}
CHANNEL = "ab" * 32
# As GET /api/v1/channels/<id> answers (issue 15): public videos only, newest first.
CHANNEL_ANSWER = {
    "channel": CHANNEL, "name": "Gärten & <Meer>", "description": "Wellen, Gezeiten — und mehr",
    "account": f"channel:{CHANNEL}",
    "videos": [dict(VIDEO, id="1" * 40, title="Ebbe & Flut", description="Zweiter Teil <b>nicht fett</b>",
                    created="2025-02-01T10:00:00+00:00", channel=CHANNEL),
               dict(VIDEO, channel=CHANNEL)],
}


def make_app(**config):
    app = Flask(__name__)
    app.config.update(TESTING=True, **config)
    app.register_blueprint(create_blueprint())
    return app


class FakeTracker:
    """A hand-written stand-in for the tracker's video and channel endpoints, on a real loopback port, that
    remembers every request it gets."""

    def __init__(self):
        self.hits = []
        fake = Flask("fake_tracker")
        fake.before_request(lambda: self.hits.append(request.path))
        fake.get("/api/v1/videos/<video_id>")(self.video)
        fake.get("/api/v1/channels/<channel>")(self.channel)
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

    def channel(self, channel):
        if channel == CHANNEL:
            return jsonify(CHANNEL_ANSWER)
        if channel == "cd" * 32:
            return jsonify(error="database_unavailable", message="try again"), 503
        return jsonify(error="not_found", message="no such channel"), 404

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


