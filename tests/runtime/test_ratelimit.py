"""The shared token buckets and the client address they count (runtime/ratelimit.py, runtime/clients.py)."""
import pytest

from runtime.clients import client_address, client_key
from runtime.ratelimit import TokenBuckets
from tests.conftest import Clock


def test_a_bucket_gives_its_burst_then_its_rate():
    clock = Clock(1000.0)
    buckets = TokenBuckets(per_minute=6, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(4)] == [0, 0, 0, 10]  # a token every 10 s
    clock.advance(9.5)
    assert buckets.take("a") == 1
    clock.advance(0.5)
    assert buckets.take("a") == 0 and buckets.take("b") == 0


def test_memory_stays_bounded():
    clock = Clock(1000.0)
    buckets = TokenBuckets(per_minute=60, burst=2, clock=clock, max_keys=3)
    for key in "abcde":
        buckets.take(key)
    assert list(buckets.buckets) == ["c", "d", "e"]  # the least recently used went first
    clock.advance(1)  # full again: the same as no bucket, so forgotten
    buckets.take("f")
    assert list(buckets.buckets) == ["f"]


def test_a_clock_set_back_does_not_drain_a_bucket_and_zero_is_no_limit():
    clock = Clock(1000.0)
    buckets = TokenBuckets(per_minute=1, burst=1, clock=clock)
    assert buckets.take("a") == 0
    clock.advance(-3600)
    assert buckets.take("a") == 60
    unlimited = TokenBuckets(per_minute=0, burst=1, clock=clock)
    assert {unlimited.take("a") for _ in range(100)} == {0} and not unlimited.buckets


@pytest.mark.parametrize("address, key", [
    ("192.0.2.1", "192.0.2.1"), ("::ffff:192.0.2.1", "192.0.2.1"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), ("2001:db8::1%eth0", "2001:db8::/64"),
    ("not an address:x", "not an address:x"), ("x" * 100, "x" * 64), ("", "")])
def test_the_key_of_an_address(address, key):
    assert client_key(address) == key


def test_only_a_trusted_proxy_names_the_client_and_only_its_own_entry_counts():
    forwarded = lambda: "203.0.113.7, 10.0.0.1 ,198.51.100.1"  # noqa: E731
    assert client_address("127.0.0.1", forwarded, trust_proxy=False) == "127.0.0.1"
    assert client_address("127.0.0.1", forwarded, trust_proxy=True) == "198.51.100.1"
    assert client_address("127.0.0.1", lambda: "", trust_proxy=True) == "127.0.0.1"
    assert client_address(None, lambda: "", trust_proxy=False) == ""
