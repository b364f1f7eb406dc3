"""`POST /api/v1/uploads`: placement. Pick a live edge with room, reserve the bytes, sign a ticket.

Anyone may place, so each client address has a rate of placements (ratelimits.py) and a bound on the
bytes it holds reserved (Upload.check_reserved): otherwise one address could reserve every edge's
free space for a ticket's lifetime."""
from flask import Blueprint, current_app

from protocol.signing import sign
from protocol.tickets import encode_ticket

from .. import clock, fields, metrics, ratelimits
from ..identity import signing_key
from ..nodes.models import Node
from ..refusals import NoSpace

bp = Blueprint("uploads", __name__)


@bp.post("/api/v1/uploads")
def place():
    ratelimits.take("placements")
    body = fields.json_body()
    config = current_app.config
    wanted = {
        "title": fields.text(body, "title", 1, 200),
        "size": fields.integer(body, "size", minimum=1),
        "description": fields.text(body, "description", 0, 5000, default=""),
        "creator": fields.text(body, "creator", 0, 100, default="") or "anonymous",
        "client": ratelimits.client(),
    }
    if config["TRACKER_RATE_RESERVED"] and wanted["size"] > config["TRACKER_RATE_RESERVED"]:
        raise fields.invalid("size", f"must be at most {config['TRACKER_RATE_RESERVED']} bytes, what one address "
                                     "may hold reserved (TRACKER_RATE_RESERVED)")
    try:
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
