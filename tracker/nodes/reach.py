"""What a viewer needs to reach a node over WebRTC (README.md, "Home edges"): a connect token, the
connect URL, and the STUN server that lets it learn its own public address.

The token is a document the tracker signs, packed like an upload ticket: `{"kind": "connect", "video",
"node", "tracker", "expires"}`, valid CONNECT_TTL seconds from the lookup. It binds no viewer address
(a phone changes networks mid-video), only which node and which video: only a viewer who looked the
video up can ask that node for it, and only for that video.
"""
from urllib.parse import urlsplit

from protocol.errors import BadSignature
from protocol.signing import sign
from protocol.tickets import decode_ticket, encode_ticket

CONNECT_TTL = 120
WEBRTC = "webrtc"
KIND = "connect"


def connect_token(key, tracker_id, video_id, node_id, now):
    return encode_ticket(sign({"kind": KIND, "video": video_id, "node": node_id, "tracker": tracker_id,
                               "expires": int(now) + CONNECT_TTL}, key))


def token_allows(token, tracker_id, video_id, node_id, now):
    """The token is this tracker's, unexpired, for this video on this node."""
    if not isinstance(token, str) or len(token) > 1024:
        return False
    try:
        payload = decode_ticket(token, tracker_id, now)
    except BadSignature:
        return False
    return payload.get("kind") == KIND and payload.get("video") == video_id and payload.get("node") == node_id \
        and payload.get("tracker") == tracker_id


def ice_servers(config):
    """STUN on this tracker's host, when its responder is on (webrtc/stun.py)."""
    if not config["TRACKER_STUN_PORT"]:
        return []
    host = urlsplit(config["SLIPSTREAM_PUBLIC_URL"]).hostname
    host = f"[{host}]" if ":" in host else host
    return [{"urls": [f"stun:{host}:{config['TRACKER_STUN_PORT']}"]}]
