"""The tracker: the ledger of edges, placement of uploads, and the catalog (DESIGN.md, roles)."""


def create_app(config=None):
    """Build a tracker app: defaults → environment → `config` (tests), then its parts and the website."""
    from flask import Flask

    from . import announce, catalog, cors, db, donations, errors, identity, metrics, openapi, registration, status, uploads
    from . import reports
    from . import bittorrent, federation, search
    from . import replication
    from . import config as settings

    app = Flask(__name__)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.from_mapping(settings.from_environment())
    app.config.from_mapping(config or {})
    settings.derive(app.config)

    identity.init_app(app)
    db.init_app(app)
    search.init_app(app)
    errors.init_app(app)
    cors.init_app(app)
    metrics.init_app(app)
    bittorrent.init_app(app)
    federation.init_app(app)
    for blueprint in (announce.bp, uploads.bp, registration.bp, catalog.bp, status.bp, openapi.bp,
                      donations.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(reports.bp)

    replication.init_app(app)  # issue 5: replicas and hand-overs

    from player import create_blueprint
    app.register_blueprint(create_blueprint())
    return app


def prepare(config=None):
    """Create what every worker expects to find (tables, the search index, swarm.db, the node key)
    once, in gunicorn's master before it forks the workers (gunicorn.conf.py's on_starting), so
    workers never race to create them. No connection stays open for a worker to inherit."""
    app = create_app(config)
    app.extensions["tracker.db"].close_all()
    return app
