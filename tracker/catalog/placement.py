"""`POST /api/v1/uploads`: placement. Pick a live edge with room, reserve the bytes, sign a ticket.

Anyone may place, so each client address has a rate of placements (ratelimits.py) and a bound on the
bytes it holds reserved (Upload.check_reserved): otherwise one address could reserve every edge's
free space for a ticket's lifetime.

The body is either a plain request (an anonymous upload, `creator` free text) or a document signed
by a channel's key (README.md, channels): the video it becomes then belongs to that channel, which
alone may edit or delete it, and its `creator` is the channel's name.
"""
from flask import Blueprint, current_app

from protocol.signing import sign
from protocol.tickets import encode_ticket

from .. import clock, fields, metrics, ratelimits, signed, signers
from ..channels.models import Channel
from ..db import write_transaction
from ..identity import signing_key
from ..nodes.models import Node
from ..refusals import NoSpace
from .models import VISIBILITIES

bp = Blueprint("uploads", __name__)


@bp.post("/api/v1/uploads")
def place():
    ratelimits.take("placements")
    body = fields.json_body()
    config = current_app.config
    request = body if "payload" not in body else signed.verified_payload(body, signer="channel", action="upload")
    wanted = {
        "title": fields.text(request, "title", 1, 200),
        "size": fields.integer(request, "size", minimum=1),
        "description": fields.text(request, "description", 0, 5000, default=""),
        "creator": fields.text(request, "creator", 0, 100, default="") or "anonymous",
        "client": ratelimits.client(),
    }
    if request is not body:
        wanted.update(channel=request["channel"], visibility=fields.choice(request, "visibility", VISIBILITIES),
                      document=signed.as_received(body))
    if config["TRACKER_RATE_RESERVED"] and wanted["size"] > config["TRACKER_RATE_RESERVED"]:
        raise fields.invalid("size", f"must be at most {config['TRACKER_RATE_RESERVED']} bytes, what one address "
                                     "may hold reserved (TRACKER_RATE_RESERVED)")
    try:
        with write_transaction():  # a refused placement spends neither the channel's timestamp nor space
            if request is not body:
                wanted["creator"] = Channel.usable(request["channel"], clock.now()).display_name()
                signers.advance(request["channel"], request["timestamp"], wanted["document"])
            upload, node = Node.place(wanted, clock.now(), config["TRACKER_NODE_TTL"], config["TRACKER_TICKET_TTL"],
                                      config["TRACKER_RATE_RESERVED"], config["TRACKER_RATE_RESERVED_SHARE"])
    except NoSpace as exc:
        metrics.current().placements.labels(exc.code).inc()
        raise
    metrics.current().placements.labels("placed").inc()
    ticket = {"upload": upload.id, "node": node.id, "size": upload.size, "expires": upload.expires,
              "tracker": config["TRACKER_ID"]}
    return {
        "upload_url": node.url + "/api/v1/uploads",
        "ticket": encode_ticket(sign(ticket, signing_key())),
        "node": node.id,
        "expires": upload.expires,
        "upload": upload.id,
    }
