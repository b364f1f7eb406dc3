"""The edge as an ASGI app, for its gunicorn worker (edge/worker.py, `worker_class` in gunicorn.conf.py).

The worker answers plain GETs of published files itself (edge/fastpath.py's `find`, then sendfile on
the event loop); every other request (uploads, tus, jobs, status, Range and conditional requests)
goes to the Flask app on a pool of threads through a2wsgi, where blocking work belongs.
"""
from a2wsgi import WSGIMiddleware


class EdgeASGI:
    """`wsgi:app` for the edge role: ASGI when called with three arguments, the plain Flask WSGI app
    with two (gunicorn's gthread worker, or any WSGI server)."""

    def __init__(self, flask_app, threads):
        self.wsgi_app = flask_app
        self.files = flask_app.wsgi_app  # edge/fastpath.py's FastFiles, wrapped around Flask
        # The worker has asked `files` already: what reaches the app goes to Flask's own WSGI app.
        self.flask = WSGIMiddleware(self.files.wsgi_app, workers=threads)

    def __call__(self, *args):
        return self.flask(*args) if len(args) == 3 else self.wsgi_app(*args)
