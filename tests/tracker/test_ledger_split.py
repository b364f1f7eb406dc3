"""The donation split (tracker/ledger/split.py) and the currency table: pure functions, no app."""
import pytest
from hypothesis import given, settings, strategies as st

from tracker.ledger.currencies import CURRENCIES, major, max_amount
from tracker.ledger.split import DEFAULT, largest_remainder, parse_split, split

NODE = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
WEIGHTS = st.fixed_dictionaries({"creator": st.integers(0, 10_000), "edges": st.integers(0, 10_000),
                                 "tracker": st.integers(0, 10_000)}).filter(lambda w: sum(w.values()))


@settings(max_examples=500)
@given(amount=st.integers(1, 10 ** 12), served=st.dictionaries(NODE, st.integers(0, 2 ** 53), max_size=30),
       weights=st.one_of(st.just(DEFAULT), WEIGHTS))
def test_shares_are_non_negative_and_add_up_to_the_amount(amount, served, weights):
    shares = split(amount, weights, served)
    assert all(share > 0 for _, share in shares)
    assert sum(share for _, share in shares) == amount
    assert {party[1] for party, _ in shares if party[0] == "node"} <= {n for n, b in served.items() if b}


@given(amount=st.integers(0, 10 ** 9), weights=st.lists(st.integers(0, 1000), min_size=1, max_size=20)
       .filter(sum))
def test_largest_remainder_is_within_one_unit_of_the_exact_share(amount, weights):
    parts = largest_remainder(amount, weights)
    assert sum(parts) == amount
    for part, weight in zip(parts, weights):
        assert abs(part - amount * weight / sum(weights)) < 1


def test_default_split_of_ten_euros():
    a, b = "a" * 64, "b" * 64
    assert split(1000, DEFAULT, {a: 300, b: 100}) == [
        (("creator",), 900), (("node", a), 53), (("node", b), 17), (("tracker",), 30)]


def test_with_no_bytes_served_the_edges_share_goes_to_the_creator():
    assert split(1000, DEFAULT, {}) == [(("creator",), 970), (("tracker",), 30)]
    assert split(1000, DEFAULT, {"a" * 64: 0}) == [(("creator",), 970), (("tracker",), 30)]


def test_one_minor_unit_goes_to_the_largest_share():
    assert split(1, DEFAULT, {"a" * 64: 5}) == [(("creator",), 1)]


@pytest.mark.parametrize("text, weights", [
    ("creator=90,edges=7,tracker=3", DEFAULT),
    (" creator = 80 , tracker=20", {"creator": 80, "edges": 0, "tracker": 20}),
    ("creator=9000,edges=725,tracker=275", {"creator": 9000, "edges": 725, "tracker": 275}),
])
def test_split_setting_parses(text, weights):
    assert parse_split("TRACKER_SPLIT", text) == weights


@pytest.mark.parametrize("text", ["", "creator=90,edges=7,tracker=-3", "creator=90,creator=10", "owner=100",
                                  "creator=0,edges=0,tracker=0", "creator=9.5", "creator=²"])
def test_bad_split_settings_are_refused(text):
    with pytest.raises(ValueError, match="TRACKER_SPLIT"):
        parse_split("TRACKER_SPLIT", text)


def test_currency_table():
    assert (CURRENCIES["EUR"], CURRENCIES["JPY"], CURRENCIES["KWD"]) == (2, 0, 3)
    assert max_amount("EUR") == 100_000_000 and max_amount("JPY") == 1_000_000
    assert (major(1250, "EUR"), major(5, "EUR"), major(-7, "KWD"), major(5, "JPY")) == ("12.50", "0.05", "-0.007", "5")
