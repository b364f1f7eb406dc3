"""Payouts: the holder of a channel's or a node's key claims money its account holds; the operator
pays it outside Slipstream and says so, or rejects it (README.md, moderation and payouts).

A claim is a document signed by the owner's key, `{"payload": {"channel" | "node": key, "timestamp",
"action": "payout", "amount", "currency", "destination"}, "signature"}`, so only the key's holder can move its account's
money, and a captured claim cannot be sent again (signers.py). The money moves double-entry: owner →
payouts:pending on the claim, then payouts:pending → payouts:paid, or back to the owner (models.py).
"""
from flask import Blueprint, request

from .. import clock, fields
from ..admin import admin_only
from ..errors import ApiError
from ..signed import verified_payload
from .currencies import CURRENCIES, max_amount
from .models import MAX_DESTINATION, MAX_NOTE, Payout

bp = Blueprint("payouts", __name__)

PER_PAGE = 50
STATES = ("pending", "paid", "rejected")
OWNERS = ("channel", "node")  # the signer fields a claim may have, and so the account kinds it may draw on


@bp.post("/api/v1/payouts")
def claim():
    body = fields.json_body()
    document = body.get("payload")
    owner = next((kind for kind in OWNERS if isinstance(document, dict) and kind in document), "channel")
    payload = verified_payload(body, signer=owner, action="payout")
    currency = payload.get("currency")
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise ApiError(400, "unknown_currency", "currency must be an ISO 4217 code this tracker knows, e.g. EUR")
    wanted = {"amount": fields.integer(payload, "amount", minimum=1, maximum=max_amount(currency)),
              "currency": currency, "destination": fields.text(payload, "destination", 1, MAX_DESTINATION)}
    payout = Payout.claim(f"{owner}:{payload[owner]}", wanted, payload[owner], payload["timestamp"], clock.now())
    return {"payout": payout.id, "state": payout.state, "account": payout.account}, 201


@bp.get("/api/v1/admin/payouts")
@admin_only
def listing():
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise ApiError(400, "invalid_state", f"state must be one of {', '.join(STATES)}")
    page = fields.page_number(request.args)
    payouts, total = Payout.listing(state, page, PER_PAGE)
    return {"payouts": payouts, "page": page, "per_page": PER_PAGE, "total": total}


@bp.post("/api/v1/admin/payouts/<payout_id>")
@admin_only
def decide(payout_id):
    body = fields.json_body()
    state = body.get("state")
    if state not in ("paid", "rejected"):
        raise ApiError(400, "invalid_state", 'state must be "paid" (with a reference) or "rejected" (with a reason)')
    note = fields.text(body, "reference" if state == "paid" else "reason", 1, MAX_NOTE)
    return Payout.decide(payout_id, state, note, clock.now()).as_json()
