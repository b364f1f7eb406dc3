"""`POST /api/v1/videos/<id>/connect`: a viewer's WebRTC offer to a home edge, relayed through the edge's
signalling socket, answered with the edge's answer (README.md, "Home edges").

One round trip with non-trickle ICE: the offer carries every candidate the viewer gathered, the answer
every candidate the edge gathered. The offer goes through the `signal` table to whichever worker holds
the edge's socket (nodes/sockets.py); this request's thread waits on its row for the answer, at most
ANSWER_TIMEOUT. No media byte ever passes here: the tracker only carries the two descriptions.
"""
from flask import Blueprint, current_app

from .. import clock, fields, ratelimits
from ..catalog.models import Video
from ..errors import ApiError
from ..nodes.models import Copy, Node
from ..nodes.reach import token_allows
from ..nodes.sockets import Signal, SignalSocket

bp = Blueprint("connect", __name__)

MAX_SDP = 16 * 1024  # a data-channel offer with a dozen candidates is about 1 KiB
ANSWER_TIMEOUT = 10.0
REFUSALS = {  # the edge's reason: (status, code, message)
    "video_not_held": (404, "video_not_held", "the edge does not hold this video"),
    "busy": (503, "edge_busy", "the edge has all the viewers it takes; try another source")}
EDGE_REFUSED = (502, "edge_refused", "the edge refused the offer")


@bp.post("/api/v1/videos/<video_id>/connect")
def connect(video_id):
    ratelimits.take("connects")
    body = fields.json_body()
    sdp = offer_sdp(body.get("offer"))
    node_id = body.get("node")
    if not isinstance(node_id, str) or Node.get_or_none(Node.id == node_id) is None:
        raise ApiError(404, "unknown_node", "no node of this tracker has that id")
    now = clock.now()
    if not token_allows(body.get("token"), current_app.config["TRACKER_ID"], video_id, node_id, now):
        raise ApiError(403, "invalid_token", "the token is not this tracker's for this video on this node, "
                       "or it expired: look the video's sources up again")
    Video.known(video_id)  # 410 once removed
    if not Copy.select().where((Copy.node == node_id) & (Copy.video == video_id)
                               & Copy.audited.is_null(False)).exists():
        raise ApiError(404, "video_not_held", "this node holds no audited copy of the video")
    if not SignalSocket.is_live(node_id, now):
        raise ApiError(504, "edge_unreachable", "the edge has no signalling connection to this tracker")
    answer, refusal = relay(node_id, video_id, sdp, now)
    if refusal is not None:
        raise ApiError(*REFUSALS.get(refusal, EDGE_REFUSED))
    return {"answer": {"type": "answer", "sdp": answer}}


def offer_sdp(offer):
    if not isinstance(offer, dict) or offer.get("type") != "offer" or not isinstance(offer.get("sdp"), str):
        raise ApiError(400, "invalid_offer", 'offer must be {"type": "offer", "sdp": text}')
    sdp = offer["sdp"]
    if len(sdp.encode()) > MAX_SDP or not sdp.startswith("v=0"):
        raise ApiError(400, "invalid_offer", f"offer's sdp must be a session description (RFC 8866) of at most "
                       f"{MAX_SDP} bytes")
    return sdp


def relay(node_id, video_id, sdp, now):
    answer, refusal = Signal.exchange(node_id, video_id, sdp, now, ANSWER_TIMEOUT)
    if answer is None and refusal is None:
        raise ApiError(504, "edge_unreachable", f"the edge did not answer within {ANSWER_TIMEOUT:.0f} s")
    return answer, refusal
