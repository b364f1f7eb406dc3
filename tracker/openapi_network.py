"""The OpenAPI description of the tracker's network side: BitTorrent (BEP 3, 48) and federation."""

STRING, INTEGER = {"type": "string"}, {"type": "integer"}


def query(name, schema, description, required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def bencoded(description):
    return {"responses": {"200": {"description": description, "content": {"text/plain": {"schema": {
        "type": "string", "format": "binary", "description": "bencoded (BEP 3); a refusal is "
        "d14:failure reason…e with status 200"}}}}}}


RAW20 = {"type": "string", "description": "20 raw bytes, percent-encoded"}

BITTORRENT_PATHS = {
    "/announce": {"get": {
        "summary": "BitTorrent announce (BEP 3, 7, 23): info_hash is a video id of the catalog",
        "parameters": [
            query("info_hash", RAW20, "the video id as 20 raw bytes", True),
            query("peer_id", RAW20, "the peer's id", True),
            query("port", {"type": "integer", "minimum": 1, "maximum": 65535}, "the peer's port", True),
            query("uploaded", INTEGER, "bytes"), query("downloaded", INTEGER, "bytes"),
            query("left", INTEGER, "bytes still wanted; 0 makes the peer a seeder"),
            query("event", {"enum": ["started", "completed", "stopped", "paused", ""]}, "BEP 3 / BEP 21"),
            query("numwant", {"type": "integer", "minimum": 0}, "peers wanted: default 50, at most 100"),
            query("compact", {"enum": ["0", "1"]}, "BEP 23; compact unless 0"),
            query("no_peer_id", {"enum": ["0", "1"]}, "drop peer ids from a non-compact list"),
            query("ip", STRING, "ignored unless TRACKER_TRUST_PROXY is set")],
        **bencoded("d: interval, min interval, complete (edges holding the video count), incomplete, "
                   "peers (6-byte entries, BEP 23), peers6 (18-byte entries, BEP 7), warning message?")}},
    "/scrape": {"get": {
        "summary": "BitTorrent scrape (BEP 48): counts for 1 to 64 info_hash values; no full scrape",
        "parameters": [query("info_hash", RAW20, "repeatable", True)],
        **bencoded("d5:files d <raw info_hash>: d complete, incomplete, downloaded e e e; unknown "
                   "hashes are left out")}},
}

SOURCES_PARAMETERS = [
    query("hops", {"type": "integer", "minimum": 0}, "how many more trackers an unknown video's lookup "
          "may travel (at most TRACKER_FEDERATION_HOPS)"),
    query("visited", STRING, "comma-separated URLs of trackers already asked"),
    query("from", STRING, "the asking tracker's public URL (peer trackers learn each other)"),
]

FEDERATION_PATHS = {
    "/api/v1/trackers": {"get": {
        "summary": "this tracker and the peer trackers it asks about unknown videos",
        "responses": {"200": {"description": "peers", "content": {"application/json": {"schema": {
            "type": "object", "required": ["tracker", "peers"], "properties": {
                "tracker": STRING, "peers": {"type": "array", "items": STRING}}}}}}}}},
}
