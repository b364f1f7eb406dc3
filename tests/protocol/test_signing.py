"""protocol/signing.py and protocol/tickets.py: node keys, signed documents (announces) and tickets."""
import os
import time

import nacl.signing
import pytest

from protocol.errors import BadSignature
from protocol.signing import load_or_create_key, node_id, sign, verify, verify_fresh
from protocol.tickets import decode_ticket, encode_ticket

KEY, OTHER = nacl.signing.SigningKey.generate(), nacl.signing.SigningKey.generate()


def announce(**changes):
    return sign({"node": node_id(KEY), "timestamp": time.time(), "url": "https://edge.example", "videos": [],
                 **changes}, KEY)


def ticket(**changes):
    return encode_ticket(sign({"upload": "u1", "node": node_id(OTHER), "size": 10, "expires": time.time() + 60,
                               "tracker": node_id(KEY), **changes}, KEY))


def test_key_is_created_once_private_and_reloaded(tmp_path):
    path = str(tmp_path / "keys" / "node.key")
    first = load_or_create_key(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert node_id(load_or_create_key(path)) == node_id(first)
    assert len(node_id(first)) == 64 and int(node_id(first), 16) >= 0


def test_a_signed_announce_verifies_and_is_fresh():
    document = announce()
    assert verify(document, node_id(KEY)) == document["payload"]
    assert verify_fresh(document, node_id(KEY), 300) == document["payload"]


@pytest.mark.parametrize("tamper", [
    lambda d: d["payload"].update(url="https://evil.example"),
    lambda d: d.update(signature=d["signature"][:-2] + ("00" if d["signature"][-2:] != "00" else "11")),
    lambda d: d.update(signature="not hex"),
    lambda d: d.pop("signature"),
    lambda d: d.update(payload=["a", "list"]),
])
def test_tampered_announces_are_refused(tamper):
    document = announce()
    tamper(document)
    with pytest.raises(BadSignature):
        verify(document, node_id(KEY))


def test_an_announce_signed_by_another_key_is_refused():
    forged = sign(announce()["payload"], OTHER)
    with pytest.raises(BadSignature):
        verify(forged, node_id(KEY))


@pytest.mark.parametrize("skew", [-310, 310])
def test_stale_timestamps_are_refused(skew):
    with pytest.raises(BadSignature, match="timestamp"):
        verify_fresh(announce(timestamp=time.time() + skew), node_id(KEY), 300)


@pytest.mark.parametrize("stamp", [None, "now", [1]])
def test_missing_or_malformed_timestamps_are_refused(stamp):
    with pytest.raises(BadSignature, match="timestamp"):
        verify_fresh(announce(timestamp=stamp), node_id(KEY), 300)


def test_a_ticket_round_trips_as_one_url_safe_string():
    packed = ticket()
    assert packed.isascii() and not set(packed) & set("+/=")
    assert decode_ticket(packed, node_id(KEY))["upload"] == "u1"


def test_expired_forged_and_tampered_tickets_are_refused():
    with pytest.raises(BadSignature, match="expired"):
        decode_ticket(ticket(expires=time.time() - 1), node_id(KEY))
    forged = encode_ticket(sign({"upload": "u1", "expires": time.time() + 60}, OTHER))
    with pytest.raises(BadSignature):
        decode_ticket(forged, node_id(KEY))
    packed = ticket()
    with pytest.raises(BadSignature):
        decode_ticket(packed[:-4] + ("AAAA" if packed[-4:] != "AAAA" else "BBBB"), node_id(KEY))
    for junk in ("", "!!!", "bm90IGpzb24"):
        with pytest.raises(BadSignature):
            decode_ticket(junk, node_id(KEY))


def test_non_finite_times_are_refused():
    import math

    import nacl.signing

    key = nacl.signing.SigningKey.generate()
    for bad in (math.nan, math.inf, True):
        doc = sign({"timestamp": bad}, key)
        with pytest.raises(BadSignature):
            verify_fresh(doc, node_id(key))
        ticket = encode_ticket(sign({"expires": bad}, key))
        with pytest.raises(BadSignature):
            decode_ticket(ticket, node_id(key))


def test_concurrent_key_creation_agrees_on_one_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from protocol import signing

    path = str(tmp_path / "node.key")
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: signing.node_id(signing.load_or_create_key(path)), range(16)))
    assert len(ids) == 1
    assert oct((tmp_path / "node.key").stat().st_mode & 0o777) == "0o600"
