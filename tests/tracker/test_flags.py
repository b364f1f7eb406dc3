"""Flags through Flask's test client, on SQLite and on PostgreSQL: anyone flags a video, each address
counts once per video, and the operator lists flagged videos and dismisses their flags. (Their rate
limit is tested with the others', in test_rate_limits.py.)"""
import pytest

from tests.edges import Edge
from tests.tracker.actions import assert_error, new_video_id, publish

TOKEN = "operator-secret"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def tracker_config(clock):
    return {"TRACKER_ADMIN_TOKEN": TOKEN, "CLOCK": clock}


@pytest.fixture
def videos(client):
    edge = Edge()
    assert edge.announce(client).status_code == 200
    return [publish(client, edge, title=f"Clip {n}") for n in range(3)]


def flag(client, video_id, address="192.0.2.1", **body):
    return client.post(f"/api/v1/videos/{video_id}/flags", json={"reason": "spam", **body},
                       environ_base={"REMOTE_ADDR": address})


def flagged(client, **query):
    answer = client.get("/api/v1/admin/flags", query_string=query, headers=ADMIN)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_a_flag_is_taken_and_the_operator_sees_it(client, videos):
    answer = flag(client, videos[0], reason="copyright", note="  my song at 0:42  ")
    assert answer.status_code == 201
    assert answer.json == {"video_id": videos[0], "reason": "copyright", "counted": True}
    listing = flagged(client)
    assert listing["total"] == 1
    [video] = listing["videos"]
    assert (video["video_id"], video["title"], video["flags"], video["notes"]) == (
        videos[0], "Clip 0", 1, ["my song at 0:42"])
    assert video["reasons"] == {"spam": 0, "illegal": 0, "copyright": 1, "other": 0}


def test_one_address_flagging_a_video_twice_counts_once(client, videos):
    assert flag(client, videos[0]).json["counted"] is True
    again = flag(client, videos[0], reason="illegal", note="worse than spam")
    assert again.status_code == 201 and again.json["counted"] is False
    assert flag(client, videos[0], address="192.0.2.2").json["counted"] is True
    [video] = flagged(client)["videos"]
    assert video["flags"] == 2
    assert video["reasons"] == {"spam": 1, "illegal": 1, "copyright": 0, "other": 0}
    # An IPv6 client is its /64, as for the rate limits: another address in it is the same flagger.
    assert flag(client, videos[1], address="2001:db8::1").json["counted"] is True
    assert flag(client, videos[1], address="2001:db8::2").json["counted"] is False


def test_flagged_videos_are_grouped_newest_first_and_paginated(client, clock, videos, monkeypatch):
    from tracker.flags import views as flags

    for n, video in enumerate(videos):
        for address in range(n + 1):
            flag(client, video, address=f"192.0.2.{address + 1}")
        clock.advance(10)
    flag(client, videos[0], address="198.51.100.1")  # the newest flag makes the first video the newest
    listing = flagged(client)
    assert [(v["video_id"], v["flags"]) for v in listing["videos"]] == [(videos[0], 2), (videos[2], 3), (videos[1], 2)]
    monkeypatch.setattr(flags, "PER_PAGE", 2)
    assert [v["video_id"] for v in flagged(client, page=2)["videos"]] == [videos[1]]
    assert flagged(client, page=2)["total"] == 3


def test_dismissing_clears_a_video_until_it_is_flagged_again(client, videos):
    flag(client, videos[0])
    flag(client, videos[0], address="192.0.2.2")
    flag(client, videos[1])
    answer = client.post(f"/api/v1/admin/flags/{videos[0]}/dismiss", headers=ADMIN)
    assert answer.status_code == 200 and answer.json == {"video_id": videos[0], "dismissed": 2}
    assert [v["video_id"] for v in flagged(client)["videos"]] == [videos[1]]
    assert_error(client.post(f"/api/v1/admin/flags/{videos[0]}/dismiss", headers=ADMIN), 404, "no_open_flags")
    # The same address flagging it anew counts again.
    assert flag(client, videos[0]).json["counted"] is True
    assert {v["video_id"]: v["flags"] for v in flagged(client)["videos"]} == {videos[0]: 1, videos[1]: 1}


@pytest.mark.parametrize("body, status, code", [
    ({"reason": "boring"}, 400, "invalid_reason"), ({"reason": None}, 400, "invalid_reason"),
    ({"note": "x" * 1001}, 400, "invalid_note"), ({"note": 5}, 400, "invalid_note")])
def test_bad_flags_are_refused(client, videos, body, status, code):
    assert_error(flag(client, videos[0], **body), status, code)
    assert flagged(client)["videos"] == []


def test_flagging_an_unknown_video_is_404(client, videos):
    assert_error(flag(client, new_video_id()), 404, "unknown_video")
    assert_error(flag(client, "not-an-id"), 400, "invalid_video_id")


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "unauthorized"), ({"Authorization": "Bearer wrong"}, 403, "forbidden")])
def test_the_operator_routes_need_the_token(client, videos, headers, status, code):
    flag(client, videos[0])
    assert_error(client.get("/api/v1/admin/flags", headers=headers), status, code)
    assert_error(client.post(f"/api/v1/admin/flags/{videos[0]}/dismiss", headers=headers), status, code)
    assert flagged(client)["total"] == 1
