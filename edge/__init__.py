"""The edge: a streaming node that accepts uploads, packages them as HLS and serves them."""


def create_app(config=None):
    """Build the edge app: defaults, then the environment, then `config` (see edge/config.py)."""
    import os

    from flask import Flask

    from . import background, cors, errors, fastpath
    from .config import load as load_config
    from .deny import bp as deny_bp
    from .handover import bp as handover_bp
    from .logs import init_logging
    from .metrics import bp as metrics_bp, make_registry
    from .models import db, init_db
    from .node import Node
    from .openapi import bp as openapi_bp
    from .proof import bp as proof_bp
    from .published import ManifestCache
    from .serving import bp as serving_bp
    from .status import bp as status_bp
    from .tus import bp as tus_bp
    from .uploads import bp as uploads_bp

    init_logging()
    app = Flask(__name__, static_folder=None)  # the edge serves no static files of its own
    app.config.update(load_config(config))
    node = Node(app.config)
    init_db(os.path.join(node.data_dir, "edge.db"))
    app.extensions["edge"] = node
    app.extensions["edge.manifests"] = ManifestCache(node)
    app.extensions["edge.metrics"] = make_registry(node)
    # Where announces made by requests (a ticket's first check) send the tracker's tasks: the
    # replicator's intake in the one process that runs the background threads, else nowhere.
    app.extensions["edge.tasks"] = None

    @app.teardown_request
    def close_db(exc):
        if not db.is_closed():
            db.close()

    errors.init_app(app)
    cors.init_app(app)
    fastpath.init_app(app)
    for blueprint in (uploads_bp, tus_bp, status_bp, serving_bp, metrics_bp, handover_bp, deny_bp, proof_bp,
                      openapi_bp):
        app.register_blueprint(blueprint)
    if app.config["EDGE_BACKGROUND"]:
        running = app.extensions["edge.background"] = background.start(app)
        app.extensions["edge.tasks"] = running.on_tasks if running else None
    return app
