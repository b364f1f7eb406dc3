"""A peer tracker's answer is untrusted input: however malformed, it is a miss, never an exception."""
import json

from hypothesis import given, settings, strategies as st

from protocol.http import Answer
from tracker.federation.lookup import read_answer

VIDEO = "ab" * 20
NODE = "cd" * 32
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)
# Answers shaped almost right, so the fuzzing reaches the checks past the first one.
near_misses = st.fixed_dictionaries({
    "video_id": st.sampled_from([VIDEO, "cd" * 20, None, 7]),
    "found_by": st.sampled_from(["https://peer.example", None, ["x"]]),
    "sources": st.lists(st.fixed_dictionaries({}, optional={
        "node": st.sampled_from([NODE, None, 3, {}]),
        "url": st.sampled_from(["https://edge.example", "http://127.0.0.1:9", "file:///etc/passwd", None, 5])}),
        max_size=3) | json_values})


@settings(max_examples=300, deadline=None, derandomize=True)
@given(body=json_values | near_misses, status=st.sampled_from([200, 404, 500]))
def test_malformed_answers_are_misses(body, status):
    answer = read_answer(Answer(status, {}, json.dumps(body).encode()), VIDEO, allow_private=False)
    if answer is not None:
        assert status == 200 and answer["video_id"] == VIDEO and answer["sources"]
        assert all(s["url"].startswith("https://edge.example") for s in answer["sources"])


@settings(max_examples=100, deadline=None, derandomize=True)
@given(raw=st.binary(max_size=200))
def test_bytes_that_are_not_json_are_misses(raw):
    assert read_answer(Answer(200, {}, raw), VIDEO, allow_private=False) is None


def test_a_well_formed_answer_is_read():
    body = {"video_id": VIDEO, "found_by": "https://peer.example",
            "sources": [{"node": NODE, "url": "https://edge.example"}]}
    assert read_answer(Answer(200, {}, json.dumps(body).encode()), VIDEO, allow_private=False) == body
