"""The donation ledger's API: give (exactly once per Idempotency-Key), preview a split, read an account.

`found_by` names the tracker that found the edges. Our own public URL credits `tracker:<our id>`;
a peer tracker's URL (one of TRACKER_PEERS, or the origin_url of a video learnt from a peer's
change feed, which its origin signed) credits `tracker:<its URL>` in our ledger, since we cannot
verify a peer's key from its URL alone. Any other URL is refused: otherwise any website
could route the trackers' share of every gift to an account nobody is accountable for.
"""
import re
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, request
from prometheus_client import Counter

from .. import clock, fields, ratelimits
from ..catalog.models import Video
from ..errors import ApiError
from ..refusals import Conflict, Refused
from .credit import credit
from .currencies import CURRENCIES, max_amount
from .models import DONOR, MAX_ACCOUNT, MAX_KEY, Balance, Donation, Posting, unknown_nodes
from .split import split

bp = Blueprint("donations", __name__)

MAX_SERVED = 100  # edges named in one donation; a player rarely uses more than a handful
# The preview's `served=id:bytes,…` (commas around items are ignored); 15 digits stay below 2**53.
SERVED_QUERY = f"^,*(?:[0-9a-f]{{64}}:[0-9]{{1,15}}(?:,+|$)){{0,{MAX_SERVED}}}$"
PER_PAGE = 50
MAX_PAGE = 10 ** 6
ACCOUNT = re.compile(r"(creator|channel|node|tracker|donor|payouts):.+", re.DOTALL)


@bp.record_once
def add_metrics(state):
    """`tracker_donations_total{result}` in the app's own registry (metrics.py)."""
    counter = Counter("tracker_donations", "Donation requests, by result", ["result"],
                      registry=state.app.extensions["tracker.metrics"].registry)
    for result in ("recorded", "replayed", "conflict", "refused"):
        counter.labels(result)  # show zeros before the first gift
    state.app.extensions["tracker.donations"] = counter


@bp.post("/api/v1/donations")
def donate():
    counter = current_app.extensions["tracker.donations"]
    try:
        ratelimits.take("donations")
        key = idempotency_key()
        gift = read_gift(fields.json_body())
        answer, replayed = Donation.record(key, gift, *postings(gift), clock.now())
    except (ApiError, Refused) as exc:
        counter.labels("conflict" if isinstance(exc, Conflict) else "refused").inc()
        raise
    counter.labels("replayed" if replayed else "recorded").inc()
    response = jsonify(answer)
    response.status_code = 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotency_key():
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise ApiError(400, "missing_idempotency_key", "send an Idempotency-Key header (a fresh UUID per gift)")
    if not 1 <= len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        raise ApiError(400, "invalid_idempotency_key",
                       f"Idempotency-Key must be 1 to {MAX_KEY} printable ASCII characters")
    return key


@bp.get("/api/v1/donations/split")
def preview():
    """What a gift would post, written nowhere: `?video_id=&amount=&currency=&found_by=&served=id:bytes,…`."""
    args = request.args
    served = {node: query_int(count) for node, _, count in
              (item.partition(":") for item in args.get("served", "").split(",") if item)}
    gift = read_gift({"video_id": args.get("video_id"), "amount": query_int(args.get("amount", "")),
                      "currency": args.get("currency"), "found_by": args.get("found_by"), "served": served})
    rows, uncredited = postings(gift)
    return {**gift, "exponent": CURRENCIES[gift["currency"]], "split": current_app.config["TRACKER_SPLIT"],
            "postings": [{"account": a, "amount": n, "currency": gift["currency"]} for a, n in rows],
            "uncredited": uncredited}


def query_int(text):
    """A query string's integer, or the text itself for read_gift to refuse with the field's name."""
    # Short ASCII digits only: int() accepts "²" and is slow on strings of thousands of digits.
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 16 else text


@bp.get("/api/v1/accounts/<path:account>", merge_slashes=False)
def account(account):
    if len(account) > MAX_ACCOUNT or not ACCOUNT.fullmatch(account):
        raise ApiError(400, "invalid_account", "an account is creator:<name>, channel:<id>, node:<id>, "
                                               "tracker:<id or URL>, donor:external or payouts:pending|paid")
    page = fields.page_number(request.args, MAX_PAGE)
    balances = Balance.of(account)
    if balances is None:
        raise ApiError(404, "unknown_account", "this ledger has no postings for that account")
    entries, total = Posting.statement(account, page, PER_PAGE)
    return {"account": account, "balances": balances, "entries": entries, "page": page,
            "per_page": PER_PAGE, "total": total}


def read_gift(body):
    """The donation's request, checked and normalised (the idempotency fingerprint is taken of it)."""
    video = Video.known(body.get("video_id"))
    currency = body.get("currency")
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise ApiError(400, "unknown_currency", "currency must be an ISO 4217 code this tracker knows, e.g. EUR")
    amount = fields.integer(body, "amount", minimum=1, maximum=max_amount(currency))
    served = body.get("served")
    served = {} if served is None else served
    if not isinstance(served, dict) or len(served) > MAX_SERVED:
        raise fields.invalid("served", f"must be an object of at most {MAX_SERVED} node ids to bytes")
    served = dict(served)
    for node, count in served.items():
        fields.node_id({"served": node}, "served")
        served[node] = fields.as_integer(count)
        if served[node] is None or not 0 <= served[node] <= fields.MAX_INT:
            raise fields.invalid("served", f"must give each node's bytes as an integer from 0 to {fields.MAX_INT}")
    # A peer's video may be served by edges this tracker never knew: they earn nothing here (credit.py).
    unknown = unknown_nodes(served) if video.origin is None else []
    if unknown:
        # Like any other reference to something this tracker does not have (the video): a 404.
        raise ApiError(404, "unknown_node", f"this tracker never knew the node {unknown[0]}")
    gift = {"video_id": video.id, "creator": video.creator, "amount": amount, "currency": currency,
            "served": dict(sorted(served.items())), "tracker": finding_tracker(body.get("found_by"), video)}
    if video.channel:  # only then: an anonymous video's gift keeps its idempotency fingerprint
        gift["channel"] = video.channel
    return gift


def gift_schema(trackers, query):
    """What read_gift accepts, for the OpenAPI document: a JSON body, or (`query`) the preview's query
    parameters. `trackers` are the URLs found_by may name (see finding_tracker)."""
    codes = {}
    for code, exponent in sorted(CURRENCIES.items()):
        codes.setdefault(exponent, []).append(code)
    if query:
        served = {"type": "string", "pattern": SERVED_QUERY,
                  "description": f"node id:bytes, comma-separated, at most {MAX_SERVED} nodes"}
    else:
        served = {"type": ["object", "null"], "maxProperties": MAX_SERVED, "propertyNames": fields.NODE_ID,
                  "additionalProperties": fields.integer_schema(), "description": "node id → bytes it served"}
    return {
        "type": "object", "required": ["video_id", "amount", "currency"], "properties": {
            "video_id": fields.VIDEO_ID, "amount": {"type": "integer", "minimum": 1, "description": "minor units"},
            "currency": {"enum": sorted(CURRENCIES), "description": "ISO 4217"},
            "found_by": {"enum": trackers if query else [*trackers, None],
                         "description": "the tracker that found the edges: this one (the default) or a peer (or, "
                                        "not listed here, a peer's video's origin_url)"},
            "served": served},
        # The largest gift is a million major units, so its bound in minor units depends on the currency.
        "anyOf": [{"properties": {"currency": {"enum": same}, "amount": {"maximum": max_amount(same[0])}}}
                  for same in codes.values()]}


def finding_tracker(url, video):
    """The ledger account of the tracker that found the edges (see the module's docstring)."""
    config = current_app.config
    if url is not None and (not isinstance(url, str) or len(url) > 200):
        raise fields.invalid("found_by", "must be a tracker URL of at most 200 characters")
    if url is None or normal_url(url) == normal_url(config["SLIPSTREAM_PUBLIC_URL"]):
        return "tracker:" + config["TRACKER_ID"]
    # A peer's video names its origin tracker's URL in a record the origin signed: as accountable
    # as a configured peer, and the tracker a federated lookup of it ends at.
    accountable = {normal_url(peer) for peer in config["TRACKER_PEERS"]} | (
        {normal_url(video.origin_url)} if video.origin else set())
    if normal_url(url) not in accountable:
        raise ApiError(422, "unknown_tracker", "found_by must be this tracker's URL, one of its peers' or the "
                                               "video's origin tracker's")
    return "tracker:" + normal_url(url)


def normal_url(url):
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise fields.invalid("found_by", "must be a tracker URL") from None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def postings(gift):
    """([(account, amount)], uncredited): the donor's debit first, then each share (TRACKER_SPLIT);
    a share claimed for a node that did not earn it goes to the creator (ledger/credit.py)."""
    config = current_app.config
    claims, earners, uncredited = credit(Video.get_by_id(gift["video_id"]), gift["served"], clock.now(), config)
    # A channel's video pays the channel's key holder; an anonymous one a name anybody may type.
    creator = "channel:" + gift["channel"] if gift.get("channel") else "creator:" + gift["creator"]
    accounts = {("creator",): creator, ("tracker",): gift["tracker"]}
    shares = {}
    for party, share in split(gift["amount"], config["TRACKER_SPLIT"], claims):
        account = accounts.get(party) or ("node:" + party[1] if party[1] in earners else creator)
        shares[account] = shares.get(account, 0) + share
    return [(DONOR, -gift["amount"])] + list(shares.items()), uncredited
