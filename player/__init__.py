"""The reference website and embeddable player, as a blueprint any Flask app can mount.

The pages are shells: the browser fetches everything from a tracker's public JSON API, exactly as a
third-party website would, so this package imports neither `tracker` nor `edge`.
"""
from flask import Blueprint


def create_blueprint():
    """A fresh blueprint: the pages, `/oembed`, `/player/static/…` and `/player/vendor/hls.min.js`."""
    from . import bundles, oembed, pages, settings, vendor

    bp = Blueprint(
        "player", __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/player/static",
    )
    bp.record_once(settings.set_defaults)
    pages.register(bp)
    oembed.register(bp)
    vendor.register(bp)
    bundles.register(bp)
    return bp
