"""`/c/<channel>/feed.atom`: an Atom 1.0 feed (RFC 4287) of a channel's public videos, for feed readers.

The data is the tracker's `GET /api/v1/channels/<id>`, read over HTTP like the pages' scripts read it
(player/lookup.py), so the website stays a client of the public API.
"""
from datetime import UTC, datetime
from xml.etree import ElementTree

from flask import Response, abort, current_app, jsonify, request, url_for

from .lookup import tracker_json
from .settings import site_url

ATOM = "http://www.w3.org/2005/Atom"


def feed(channel):
    status, body = tracker_json(f"/api/v1/channels/{channel}")
    if status == 404:
        abort(404)
    if status != 200:
        return jsonify(error="tracker_unavailable", message="the tracker did not give this channel; retry later"), 502
    xml = atom(body, channel, site_url(current_app.config) or request.url_root.rstrip("/"))
    return Response(xml, mimetype="application/atom+xml")


def atom(channel, channel_id, site):
    """The feed document's bytes for the tracker's channel answer; links are absolute under `site`."""
    videos = [v for v in channel.get("videos") or [] if isinstance(v, dict) and v.get("id")]
    name = channel.get("name") or f"Channel {channel_id[:12]}"
    root = ElementTree.Element("feed", xmlns=ATOM)
    page = site + url_for("player.channel", channel=channel_id)
    add(root, "id", page)
    add(root, "title", name)
    if channel.get("description"):
        add(root, "subtitle", channel["description"])
    # RFC 4287 4.2.9: `updated` is required; an empty channel has nothing newer than now.
    add(root, "updated", max((rfc3339(v.get("created")) for v in videos), default=rfc3339(None)))
    add(root, "link", href=page, rel="alternate", type="text/html")
    add(root, "link", href=site + url_for("player.channel_feed", channel=channel_id), rel="self",
        type="application/atom+xml")
    author = add(root, "author")
    add(author, "name", name)
    for video in videos:
        watch = site + url_for("player.watch", video_id=video["id"])
        entry = add(root, "entry")
        add(entry, "id", watch)
        add(entry, "title", video.get("title") or "Untitled")
        add(entry, "link", href=watch, rel="alternate", type="text/html")
        add(entry, "updated", rfc3339(video.get("created")))
        add(entry, "published", rfc3339(video.get("created")))
        add(entry, "summary", video.get("description") or "", type="text")
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def add(parent, tag, text=None, **attributes):
    child = ElementTree.SubElement(parent, tag, attributes)
    child.text = text
    return child


def rfc3339(iso):
    """The tracker's ISO 8601 UTC time as RFC 3339 (what Atom requires); now when it is missing or bad."""
    try:
        moment = datetime.fromisoformat(iso)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (TypeError, ValueError):
        moment = datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
