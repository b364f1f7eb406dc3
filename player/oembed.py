"""oEmbed (https://oembed.com, section 2) so blogs and CMSes can embed a video from its link.

Nothing here is built from the request's Host header, which the client chooses: this site's origin
and the tracker to ask come from configuration (player/settings.py), and the lookup goes through
the guarded client (protocol/http.py), to loopback or private addresses only when the mounting
tracker has TRACKER_ALLOW_PRIVATE.
"""
import json
from urllib.parse import urlsplit

from flask import current_app, jsonify, request, url_for
from markupsafe import escape

from protocol.http import GuardedClient, UnsafeRequest
from protocol.ids import is_video_id

from .settings import site_url, tracker_url

DEFAULT_WIDTH, DEFAULT_HEIGHT = 640, 360
LOOKUP_TIMEOUT = 3
LOOKUP_LIMIT = 256 * 1024  # a video's metadata is a few KB
DEFAULT_PORTS = {"http": 80, "https": 443}


def register(bp):
    bp.add_url_rule("/oembed", "oembed", oembed)


def error(status, code, message):
    return jsonify(error=code, message=message), status


def oembed():
    url = request.args.get("url", "")
    if not url:
        return error(400, "missing_url", "give the link of a video as ?url=")
    if request.args.get("format", "json") != "json":
        # oEmbed section 2.3.4: 501 when the requested format is not offered.
        return error(501, "unsupported_format", "only format=json is offered")
    try:
        max_width = int(request.args.get("maxwidth", 0)) or None
        max_height = int(request.args.get("maxheight", 0)) or None
    except ValueError:
        return error(400, "bad_size", "maxwidth and maxheight must be integers")
    site = site_url(current_app.config)
    video_id = video_id_of(url, site)
    if video_id is None:
        return error(404, "unknown_url", "not a /watch/<id> or /embed/<id> link of this site")
    video = lookup(video_id)
    if video is False:
        return error(404, "unknown_video", "the tracker does not know this video")
    return jsonify(answer(video_id, video or {}, origin_url(site), max_width, max_height))


def video_id_of(url, site):
    """The id in a link to the watch or embed page of `site` (this site's configured URL), else None."""
    link = origin(url)
    if site is None or link is None or link != origin(site):
        return None
    segments = urlsplit(url).path.strip("/").split("/")
    if len(segments) == 2 and segments[0] in ("watch", "embed") and is_video_id(segments[1]):
        return segments[1]
    return None


def origin(url):
    """(scheme, host, port) of an http(s) URL: its origin (RFC 6454); None for anything else."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        return scheme, parts.hostname, parts.port or DEFAULT_PORTS[scheme]
    except ValueError:  # e.g. a port that is not a number
        return None


def origin_url(site):
    parts = urlsplit(site)
    return f"{parts.scheme}://{parts.netloc}"


def lookup(video_id):
    """The tracker's metadata for the video; False when it answers 404 or 410, None when it cannot say.

    The title is a nicety: a tracker that is slow, unreachable or refused still gets a working embed.
    """
    base = tracker_url(current_app.config)
    if base is None:
        return None
    try:
        answer = client().request("GET", f"{base}/api/v1/videos/{video_id}", deadline=LOOKUP_TIMEOUT,
                                  max_bytes=LOOKUP_LIMIT)
        video = json.loads(answer.body)
    except (UnsafeRequest, ValueError) as exc:
        current_app.logger.warning("oEmbed lookup of %s failed: %s", video_id, exc)
        return None
    # 410: deleted by its channel or taken down, so no embed of it either.
    if answer.status in (404, 410) and isinstance(video, dict) and "error" in video:
        return False
    return video if answer.status == 200 and isinstance(video, dict) else None


def client():
    """The app's guarded client for lookups; private addresses only if the tracker allows them."""
    allow_private = bool(current_app.config.get("TRACKER_ALLOW_PRIVATE", False))
    clients = current_app.extensions.setdefault("player.oembed", {})
    if allow_private not in clients:
        clients[allow_private] = GuardedClient(allow_private=allow_private, deadline=LOOKUP_TIMEOUT,
                                               max_bytes=LOOKUP_LIMIT)
    return clients[allow_private]


def fit(width, height, max_width, max_height):
    """Scale (width, height) down, keeping the aspect ratio, to fit the consumer's maximum."""
    scale = min(1, (max_width or width) / width, (max_height or height) / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def answer(video_id, video, site_origin, max_width, max_height):
    top = max(video.get("renditions") or [], key=lambda r: r.get("height") or 0, default=None)
    aspect = (top["width"], top["height"]) if top and top.get("width") and top.get("height") else None
    width, height = DEFAULT_WIDTH, DEFAULT_HEIGHT
    if aspect:
        height = round(width * aspect[1] / aspect[0])
    width, height = fit(width, height, max_width, max_height)
    src = site_origin + url_for("player.embed", video_id=video_id)
    title = video.get("title") or "Slipstream video"
    html = (f'<iframe src="{escape(src)}" width="{width}" height="{height}" title="{escape(title)}" '
            'frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>')
    result = {
        "version": "1.0",
        "type": "video",
        "provider_name": current_app.config["PLAYER_SITE_NAME"],
        "provider_url": site_origin + "/",
        "title": title,
        "html": html,
        "width": width,
        "height": height,
    }
    if video.get("creator"):
        result["author_name"] = video["creator"]
    # oEmbed section 2.3.4: a thumbnail needs its size; the poster is taken at the top rendition's.
    if video.get("poster_url") and aspect:
        result.update(thumbnail_url=video["poster_url"], thumbnail_width=aspect[0],
                      thumbnail_height=aspect[1])
    return result
