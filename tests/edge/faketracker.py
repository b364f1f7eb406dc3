"""The tracker as an edge sees it: a hand-written fake on loopback with its own key, and the upload
tickets it signs."""
import threading
import time

import nacl.signing
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from protocol.signing import node_id, sign, verify_fresh
from protocol.tickets import encode_ticket

TRACKER_KEY = nacl.signing.SigningKey.generate()
TRACKER_ID = node_id(TRACKER_KEY)


class FakeTracker:
    """Answers announces and registrations like the tracker, checking every signature."""

    def __init__(self):
        self.announces, self.registrations, self.refuse_registration = [], [], None
        self.unavailable = False  # answer registrations 503, as a tracker that lost its database
        self.drops, self.tasks, self.key = [], [], TRACKER_ID
        app = Flask("fake_tracker")
        app.post("/api/v1/nodes/announce")(self.announce)
        app.post("/api/v1/videos")(self.register)
        app.post("/api/v1/nodes/drop")(self.drop)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def announce(self):
        body = request.get_json()
        self.announces.append(verify_fresh(body, body["payload"]["node"]))
        tasks, self.tasks = self.tasks, []
        return {"interval": 60, "min interval": 30, "tracker": self.key, "tasks": tasks}

    def drop(self):
        body = request.get_json()
        self.drops.append(verify_fresh(body, body["payload"]["node"]))
        return {"state": "handing_over", "video_id": body["payload"]["video_id"]}, 202

    def register(self):
        if self.unavailable:
            return jsonify(error="database_unavailable", message="try again"), 503, {"Retry-After": "1"}
        if self.refuse_registration:
            return jsonify(error="unknown_upload", message=self.refuse_registration), 404
        body = request.get_json()
        self.registrations.append(verify_fresh(body, body["payload"]["node"]))
        return {"video_id": body["payload"]["video_id"]}, 201

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def make_ticket(edge, size=1000, expires_in=600, key=TRACKER_KEY, upload="up-1", **changes):
    payload = {"upload": upload, "node": edge.id, "size": size, "expires": time.time() + expires_in,
               "tracker": node_id(key), **changes}
    return encode_ticket(sign(payload, key))
