"""The OpenAPI description of the tracker's network side: BitTorrent (BEP 3, 48), federation and
the catalog's change feed."""

STRING, INTEGER = {"type": "string"}, {"type": "integer"}


def query(name, schema, description, required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def bencoded(description):
    return {"responses": {"200": {"description": description, "content": {"text/plain": {"schema": {
        "type": "string", "format": "binary", "description": "bencoded (BEP 3)"}}}}}}


def bep(name, description):
    """A BitTorrent query parameter. Its value is raw bytes, percent-encoded; what BEP 3 asks of it
    is said in words, not in the schema, since at the HTTP level every query is taken: a request that
    breaks the protocol's rules is answered 200 with a bencoded `failure reason` (BEP 3), never a 4xx."""
    return query(name, STRING, description)


FAILURE = ("; a request that breaks a rule below is answered 200 with d14:failure reason…e (BEP 3): a "
           "missing or malformed info_hash, peer_id or port, an info_hash that is not a video id of the "
           "catalog, a negative number")
BITTORRENT_PATHS = {
    "/announce": {"get": {
        "summary": "BitTorrent announce (BEP 3, 7, 23): info_hash is a video id of the catalog",
        "parameters": [
            bep("info_hash", "required: the video id as 20 raw bytes"),
            bep("peer_id", "required: the peer's id, 20 raw bytes"),
            bep("port", "required: the peer's port, 1 to 65535"),
            bep("uploaded", "bytes, a non-negative integer"), bep("downloaded", "bytes, a non-negative integer"),
            bep("left", "bytes still wanted, a non-negative integer; 0 makes the peer a seeder"),
            bep("event", "started, completed, stopped, paused (BEP 21) or empty"),
            bep("numwant", "peers wanted, a non-negative integer: default 50, at most 100 are given"),
            bep("compact", "BEP 23: compact unless 0"),
            bep("no_peer_id", "1 drops peer ids from a non-compact list"),
            bep("ip", "ignored, with a warning message: a peer is listed at the address it connects from "
                      "(behind TRACKER_TRUST_PROXY, the client the proxy appended to X-Forwarded-For)")],
        **bencoded("d: interval, min interval, complete (edges holding the video count), incomplete, "
                   "peers (6-byte entries, BEP 23), peers6 (18-byte entries, BEP 7), warning message?"
                   + FAILURE)}},
    "/scrape": {"get": {
        "summary": "BitTorrent scrape (BEP 48): counts for 1 to 64 info_hash values; no full scrape",
        "parameters": [query("info_hash", {"type": "array", "items": STRING}, "required and repeatable: "
                             "video ids as 20 raw bytes each (without one, the answer is a failure reason)")],
        **bencoded("d5:files d <raw info_hash>: d complete, incomplete, downloaded e e e; unknown hashes are "
                   "left out; no info_hash, more than 64, or one that is not 20 bytes is answered 200 with "
                   "d14:failure reason…e (BEP 3)")}},
}

SOURCES_PARAMETERS = [
    query("hops", {"type": "integer", "minimum": 0}, "how many more trackers an unknown video's lookup "
          "may travel (more than TRACKER_FEDERATION_HOPS counts as that)"),
    query("visited", STRING, "comma-separated URLs of trackers already asked"),
    query("from", STRING, "the asking tracker's public URL: informational, never taken as a peer"),
]

FEDERATION_PATHS = {
    "/api/v1/trackers": {"get": {
        "summary": "this tracker and the peer trackers it asks about unknown videos",
        "responses": {"200": {"description": "peers", "content": {"application/json": {"schema": {
            "type": "object", "required": ["tracker", "peers"], "properties": {
                "tracker": STRING, "peers": {"type": "array", "items": STRING}}}}}}}}},
}

ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
# The record a change carries (tracker/catalog/changes.py); the origin signs its canonical JSON.
RECORD = {"type": "object", "required": ["id", "origin", "origin_url", "seq"], "properties": {
    "id": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
    "origin": {**HEX64, "description": "the origin tracker's public key, which signed the record"},
    "origin_url": STRING,
    "seq": {**INTEGER, "minimum": 1, "description": "the origin's own sequence: a higher one replaces a lower"},
    "removed": {"enum": ["deleted", "takedown"], "description": "present on a tombstone only"},
    "title": STRING, "description": STRING, "creator": STRING, "channel": {"type": ["string", "null"]},
    "documents": {"type": "array", "items": {"type": "object"}, "description": "a channel's video: every document "
                  "its channel signed about it, its placement (action upload) then its edits (action edit), in "
                  "order"},
    "document": {"type": ["object", "null"], "description": "a tombstone of a channel's deletion: its signed "
                 "request (action delete; any other drops the change)"},
    "duration": {"type": "number"}, "size": INTEGER, "poster": {"type": ["string", "null"]},
    "renditions": {"type": "array", "items": {"type": "object"}},
    "visibility": {"enum": ["public", "unlisted"]}, "created": {"type": "number", "description": "Unix seconds"}}}
CHANGE = {"type": "object", "required": ["record", "signature"], "properties": {
    "record": RECORD,
    "signature": {"type": "string", "description": "Ed25519 by record.origin of the record's canonical JSON, hex"}}}
FEED = {"type": "object", "required": ["changes", "next"], "properties": {
    "changes": {"type": "array", "items": CHANGE},
    "next": {**STRING, "description": "the cursor after these changes (the same when there are none)"}}}
GOSSIP_PATHS = {
    "/api/v1/catalog/changes": {"get": {
        "summary": "this tracker's catalog as a change feed for peer trackers: one change per video, the "
                   "newest, oldest first; each signed by its origin tracker and relayed unchanged",
        "parameters": [
            query("since", {"type": "string", "pattern": "^[0-9]{0,18}$"},
                  "the `next` of the page before, opaque; absent or empty: from the beginning; one past "
                  "the newest change (a feed whose database was replaced): from the beginning again"),
            query("limit", {**INTEGER, "minimum": 1, "maximum": 500}, "changes at most (default 100)")],
        "responses": {
            "200": {"description": "a page of changes", "content": {"application/json": {"schema": FEED}}},
            "400": {"description": "since is not a cursor (digits), or limit is not 1 to 500", **ERROR},
            "default": {"description": "an error", **ERROR}}}},
}
