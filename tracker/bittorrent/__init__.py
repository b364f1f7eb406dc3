"""BitTorrent: `GET /announce` and `GET /scrape` for video ids (BEP 3, 7, 23, 48).

`bencode` and `query` are the wire format and import nothing of the server; `swarm` holds the
peers; `videoindex` is the BitTorrent side's cached view of the catalog; `frontend` answers.
"""
