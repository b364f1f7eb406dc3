"""The home edges' part of the tracker's OpenAPI document (openapi.py; README.md, "Home edges"): how a
source is reached, the STUN servers, and the connect through the tracker. The edges' signalling socket
(GET /api/v1/nodes/signal, a WebSocket) is not an HTTP operation, so it is described in the README only."""
from . import fields
from .openapi_base import STRING, answer, json_body
from .webrtc.connect import MAX_SDP

VIDEO_ID = {"name": "video_id", "in": "path", "required": True, "schema": fields.VIDEO_ID}
ICE_SERVERS = {"type": "array", "description": "STUN servers for the viewer's ICE agent (RTCConfiguration.iceServers): "
               "this tracker's own when TRACKER_STUN_PORT is on, else none",
               "items": {"type": "object", "required": ["urls"], "properties": {
                   "urls": {"type": "array", "items": STRING}}}}
SOURCE = {"type": "object", "required": ["node", "url"], "properties": {
    "node": STRING, "url": STRING,
    "reach": {"enum": ["https", "http", "webrtc"], "description": "how the tracker measured the edge reachable: "
              "its URL over https (a certificate the tracker verified) or http, or only over WebRTC through "
              "this tracker (its URL could not be opened, its signalling socket proved its key)"},
    "connect": {**STRING, "description": "where to POST the viewer's offer: on every webrtc source, and on an "
                "http one whose edge holds a signalling socket here (an https page must connect so)"},
    "token": {**STRING, "description": "with connect: lets the viewer connect to this node for this video, "
              "for 120 s"}}}
SESSION = {"type": "object", "required": ["type", "sdp"], "properties": {"sdp": STRING}}
CONNECT_BODY = {"type": "object", "required": ["node", "token", "offer"], "properties": {
    "node": fields.NODE_ID, "token": {"type": "string", "maxLength": 1024},
    "offer": {**SESSION, "description": f"the viewer's offer with every ICE candidate gathered (no trickle), "
              f"at most {MAX_SDP} bytes of SDP", "properties": {"type": {"const": "offer"}, "sdp": {
                  "type": "string", "pattern": "^v=0"}}}}}

WEBRTC_PATHS = {
    "/api/v1/videos/{video_id}/connect": {"post": {
        "summary": "a viewer's WebRTC offer to an edge (a source with `connect`), relayed through the edge's "
                   "signalling socket; answered with the edge's answer. No media byte passes here",
        "parameters": [VIDEO_ID], **json_body(CONNECT_BODY),
        **answer("the edge's answer", {"type": "object", "required": ["answer"], "properties": {
            "answer": {**SESSION, "properties": {"type": {"const": "answer"}, "sdp": STRING}}}}, refusals={
            "400": "the body or the offer is malformed (invalid_offer: not an SDP offer, or too large)",
            "403": "invalid_token: not this tracker's token for this video on this node, or expired",
            "404": "unknown_node, unknown_video, or video_not_held (by the tracker's audits or the edge's word)",
            "410": "the video was removed",
            "502": "the edge refused the offer for another reason",
            "503": "edge_busy: the edge holds all the viewers it takes (EDGE_WEBRTC_PEERS)",
            "504": "edge_unreachable: the edge has no signalling socket here, or did not answer within 10 s"})}},
}
SOURCES_ANSWER = {"type": "object", "required": ["video_id", "sources", "found_by"], "properties": {
    "video_id": STRING, "found_by": STRING, "sources": {"type": "array", "items": SOURCE},
    "ice_servers": ICE_SERVERS}}
