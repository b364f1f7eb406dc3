"""The tracker: the ledger of edges, placement of uploads, and the catalog (README.md, architecture).

Its rooms: `bittorrent/` (the BitTorrent protocol and swarms), `catalog/` (videos, search,
placement, removals, the change feed's table), `channels/` (creators' keys: their signed edits
and deletions, and the operator's moderation), `nodes/` (the node ledger: signed announces,
liveness, registrations, replication, failure reports), `ledger/` (donations and the money ledger),
`federation/` (lookups across trackers), `gossip/` (the change feed, and following the peers'
feeds); the base modules beside them (config, clock, db, schema, errors, fields, signed, identity,
metrics, ratelimits) serve them all and import none of them.
"""


def create_app(config=None):
    """Build a tracker app: defaults → environment → `config` (tests), then its parts and the website."""
    from flask import Flask

    from player import create_blueprint

    from . import config as settings, cors, db, errors, identity, metrics, openapi, ratelimits, schema, status
    from .bittorrent import frontend as bittorrent
    from .catalog import placement, views as catalog
    from .channels import edits, moderation, views as channels
    from .federation import lookup as federation
    from .flags import views as flags
    from .gossip import feed, follow
    from .ledger import donations, payouts
    from .nodes import audits, edge_announce, registration, replication, reports
    from .webrtc import audit as channel_audits, connect, stun

    app = Flask(__name__)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.from_mapping(settings.from_environment())
    app.config.from_mapping(config or {})
    settings.derive(app.config)

    identity.init_app(app)
    db.init_app(app)
    schema.create_all(app)
    errors.init_app(app)
    cors.init_app(app)
    metrics.init_app(app)
    ratelimits.init_app(app)
    bittorrent.init_app(app)
    federation.init_app(app)
    audits.init_app(app)
    follow.init_app(app)
    stun.init_app(app)
    channel_audits.init_app(app)
    for blueprint in (edge_announce.bp, placement.bp, registration.bp, catalog.bp, status.bp, openapi.bp,
                      donations.bp, payouts.bp, flags.bp, reports.bp, replication.bp, channels.bp, edits.bp,
                      moderation.bp, feed.bp, connect.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(create_blueprint())
    app.extensions["player.boot"] = catalog.boot  # the pages' data, without an import of tracker in player/
    return app


def prepare(config=None):
    """Create what every worker expects to find (tables, the search index, swarm.db, the node key)
    once, in gunicorn's master before it forks the workers (gunicorn.conf.py's on_starting), so
    workers never race to create them. No connection stays open for a worker to inherit."""
    # No auditor thread here: threads do not survive gunicorn's fork.
    app = create_app({**(config or {}), "TRACKER_BACKGROUND": False})
    app.extensions["tracker.db"].close_all()
    return app
