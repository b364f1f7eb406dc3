"""The public read API: browse and search the catalog, one video's metadata, its live sources."""
from flask import Blueprint, current_app, request

from .. import clock
from ..errors import ApiError
from ..federation import lookup as federation
from ..identity import signing_key
from ..nodes import reach
from ..nodes.sources import live_sources as sources_of
from ..refusals import NotFound
from .models import Video, check_id

bp = Blueprint("catalog", __name__)

PER_PAGE = 20
MAX_PAGE = 10 ** 6
MAX_QUERY = 200
MAX_SOURCES = 20


@bp.get("/api/v1/videos")
def list_videos():
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY:
        raise ApiError(400, "invalid_q", f"q must be at most {MAX_QUERY} characters")
    return listing(q, page_number())


def page_number():
    page = request.args.get("page", "1")
    # Short ASCII digits only: int() fails on "²" and on strings of over 4300 digits.
    if not (page.isascii() and page.isdecimal() and len(page) <= 7) or not 1 <= int(page) <= MAX_PAGE:
        raise ApiError(400, "invalid_page", "page must be a positive integer")
    return int(page)


def listing(q, page, channel=None):
    """One page of public videos, each with a poster on a live edge."""
    videos, total = Video.search(q, page, PER_PAGE, channel)
    return paged(videos, page, total)


def paged(videos, page, total):
    """A page of videos as the API lists them, each with a poster on a live edge."""
    sources = live_sources([v.id for v in videos])
    return {"videos": [v.as_item(first_url(sources.get(v.id)), home()) for v in videos], "page": page,
            "per_page": PER_PAGE, "total": total}


@bp.get("/api/v1/videos/<video_id>")
def show_video(video_id):
    return item(Video.known(video_id))


def item(video):
    """A video's public JSON, with a poster on a live edge."""
    return video.as_item(first_url(live_sources([video.id]).get(video.id)), home())


@bp.get("/api/v1/videos/<video_id>/sources")
def sources(video_id):
    hops = federation.requested_hops()
    try:
        answer = local_sources(video_id)
    except NotFound:
        return federation.sources(video_id, hops)  # peer trackers may know it
    if answer is not None:
        return answer
    # Learnt from a peer's feed, stored on none of our edges: the trackers that hold it answer.
    answer = federation.peers_sources(video_id, hops)
    if answer is not None:
        return {**answer, "ice_servers": reach.ice_servers(current_app.config)}
    federation.counted("local")
    return sources_answer(video_id, [])


def local_sources(video_id):
    """The sources answer to give without asking a peer: for a video this tracker knows that a live edge
    of its own holds, or one registered here (then perhaps with none); None for a peer's video held by
    none of ours. Raises what the API answers for an invalid, unknown or removed id. Also answered
    without Flask, straight from the tracker's worker (catalog/lookups.py)."""
    check_id(video_id)
    # One statement when an edge holds it: a copy names a video that is in the catalog (a foreign key,
    # and a removal deletes the video's row with its copies), so only a video with none needs a look.
    nodes = live_sources([video_id]).get(video_id, [])
    if not nodes and Video.known_origin(video_id) is not None:
        return None
    federation.counted("local")
    return sources_answer(video_id, nodes)


def sources_answer(video_id, nodes):
    config = current_app.config
    return {
        "video_id": video_id,
        "sources": [source(video_id, n, config) for n in nodes[:MAX_SOURCES]],
        # The donation ledger pays the tracker that found the edges.
        "found_by": config["SLIPSTREAM_PUBLIC_URL"],
        "ice_servers": reach.ice_servers(config),
    }


def source(video_id, node, config):
    """One source, with how a player reaches it. One whose edge holds a signalling socket here carries what
    it takes to connect through us: a home edge can be reached no other way, and a plain-http one no other
    way from an https page (mixed content); an https one needs no more than its URL."""
    if node.reach == "https" or not node.signalling:
        return {"node": node.id, "url": node.url, "reach": node.reach}
    return {"node": node.id, "url": node.url, "reach": node.reach,
            "connect": f"{config['SLIPSTREAM_PUBLIC_URL']}/api/v1/videos/{video_id}/connect",
            "token": reach.connect_token(signing_key(), config["TRACKER_ID"], video_id, node.id, clock.now())}


def boot(video_id):
    """What the watch and embed pages carry for their player (player/pages.py): the video's metadata and
    sources exactly as the API answers them, so the first frame waits on neither lookup; None for a video
    this tracker does not hold (the page's scripts then ask the API, and through it the peer trackers)."""
    video = Video.get_or_none(Video.id == video_id)
    if video is None:
        return None
    nodes = live_sources([video.id]).get(video.id, [])
    # No edge of ours holds a peer's video: the player asks /sources, which asks the trackers that hold it.
    return {"video": video.as_item(first_url(nodes), home()), "sources": sources_answer(video.id, nodes) if nodes else None}


def live_sources(video_ids):
    config = current_app.config
    return sources_of(video_ids, clock.now(), config["TRACKER_NODE_TTL"], config["TRACKER_REPORT_WINDOW"])


def home():
    return current_app.config["TRACKER_ID"], current_app.config["SLIPSTREAM_PUBLIC_URL"]


def first_url(nodes):
    """A poster's edge: one a page can fetch from over HTTP."""
    return next((n.url for n in nodes or () if n.reach != reach.WEBRTC), None)
