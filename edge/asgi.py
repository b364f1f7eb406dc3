"""The edge as an ASGI app, for its gunicorn worker (edge/worker.py, `worker_class` in gunicorn.conf.py).

The worker answers plain GETs of published files itself (edge/fastpath.py's `find`, then sendfile on
the event loop); every other request (uploads, tus, jobs, status, Range and conditional requests)
goes to the Flask app on a pool of threads through a2wsgi, where blocking work belongs, once the event
loop has received its body (runtime/bodies.py).
"""
from runtime.bodies import FlaskOnThreads

from .admission import Admission
from .memory import MemoryFiles
from .uploads import FORM_OVERHEAD


class EdgeASGI:
    """`wsgi:app` for the edge role: ASGI when called with three arguments, the plain Flask WSGI app
    with two (gunicorn's gthread worker, or any WSGI server)."""

    def __init__(self, flask_app, threads):
        self.wsgi_app = flask_app
        self.files = flask_app.wsgi_app  # edge/fastpath.py's FastFiles, wrapped around Flask
        # The worker has asked `files` already: what reaches the app goes to Flask's own WSGI app.
        # Request bodies are received on the event loop before a thread sees them (runtime/bodies.py);
        # the largest is an upload's form, and only uploads with a valid ticket reach the disk
        # (edge/admission.py).
        node, config = flask_app.extensions["edge"], flask_app.config
        # Small files from memory (edge/memory.py), unless nginx sends every file (X-Accel-Redirect).
        budget = 0 if config["EDGE_ACCEL_REDIRECT"] else config["EDGE_MEMORY_CACHE"]
        self.memory = MemoryFiles(node, flask_app.extensions["edge.manifests"], budget)
        self.flask = FlaskOnThreads(self.files.wsgi_app, threads,
                                    limit=flask_app.config["EDGE_MAX_UPLOAD"] + FORM_OVERHEAD,
                                    spool_dir=node.data_dir, admit=Admission(node, flask_app.extensions))

    def __call__(self, *args):
        return self.flask(*args) if len(args) == 3 else self.wsgi_app(*args)
