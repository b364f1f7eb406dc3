"""oEmbed (https://oembed.com, section 2) so blogs and CMSes can embed a video from its link."""
from urllib.parse import urlsplit

import requests
from flask import current_app, jsonify, request, url_for
from markupsafe import escape

from protocol.ids import is_video_id

from .settings import tracker_url

DEFAULT_WIDTH, DEFAULT_HEIGHT = 640, 360
LOOKUP_TIMEOUT = 3


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
    video_id = video_id_of(url)
    if video_id is None:
        return error(404, "unknown_url", "not a /watch/<id> or /embed/<id> link of this site")
    video = lookup(video_id)
    if video is False:
        return error(404, "unknown_video", "the tracker does not know this video")
    return jsonify(answer(video_id, video or {}, max_width, max_height))


def video_id_of(url):
    """The id in a link to this site's watch or embed page, else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    segments = parts.path.strip("/").split("/")
    if len(segments) == 2 and segments[0] in ("watch", "embed") and is_video_id(segments[1]):
        return segments[1]
    return None


def lookup(video_id):
    """The tracker's metadata for the video; False when it answers 404, None when it cannot say.

    The title is a nicety: a tracker that is slow or unreachable still gets a working embed.
    """
    base = tracker_url(current_app.config, request)
    try:
        answer = requests.get(f"{base}/api/v1/videos/{video_id}", timeout=LOOKUP_TIMEOUT)
        if answer.status_code == 404 and "error" in answer.json():
            return False
        answer.raise_for_status()
        video = answer.json()
    except (requests.RequestException, ValueError) as exc:
        current_app.logger.warning("oEmbed lookup of %s failed: %s", video_id, exc)
        return None
    return video if isinstance(video, dict) else None


def fit(width, height, max_width, max_height):
    """Scale (width, height) down, keeping the aspect ratio, to fit the consumer's maximum."""
    scale = min(1, (max_width or width) / width, (max_height or height) / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def answer(video_id, video, max_width, max_height):
    top = max(video.get("renditions") or [], key=lambda r: r.get("height") or 0, default=None)
    aspect = (top["width"], top["height"]) if top and top.get("width") and top.get("height") else None
    width, height = DEFAULT_WIDTH, DEFAULT_HEIGHT
    if aspect:
        height = round(width * aspect[1] / aspect[0])
    width, height = fit(width, height, max_width, max_height)
    src = url_for("player.embed", video_id=video_id, _external=True)
    title = video.get("title") or "Slipstream video"
    html = (f'<iframe src="{escape(src)}" width="{width}" height="{height}" title="{escape(title)}" '
            'frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>')
    result = {
        "version": "1.0",
        "type": "video",
        "provider_name": current_app.config["PLAYER_SITE_NAME"],
        "provider_url": request.host_url,
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
