"""Other edges as a pulling edge sees them: a loopback server with the files a test gives it."""
import threading

from flask import Flask, abort
from werkzeug.serving import make_server


class Source:
    """An edge as seen from outside: serves the files it is given under /videos/<id>/<name> (bytes,
    or a function making the answer), and remembers the names asked for."""

    def __init__(self, files):
        self.files, self.hits = files, []
        flask_app = Flask("source")
        flask_app.get("/videos/<video_id>/<name>")(self.serve)
        self.server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        # The edge hangs up on an answer longer than listed: that is a test passing, not an error.
        self.server.handle_error = lambda request, address: None
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def serve(self, video_id, name):
        self.hits.append(name)
        if name not in self.files:
            abort(404)
        return self.files[name]() if callable(self.files[name]) else self.files[name]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
