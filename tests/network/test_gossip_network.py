"""One network of trackers (README.md, "One network"): four real trackers under gunicorn, each
following its neighbours' catalog change feeds (TRACKER_PEERS), in a line A–B–C–D and in a cycle.
A video registered at A is found by search on D within a few sync intervals, with its title and
origin and channel; it plays through D (its sources through the federated lookup); its channel's
deletion at A, or a takedown there, leaves every tracker."""
import os

import requests

from tests.actions import announced, send, wait_for, wait_published
from tests.channels import ChannelKey
from tests.servers import free_port, start_edge, start_tracker
from tracker import create_app
from tracker.catalog import changes
from tracker.catalog.models import Removal, Video
from tracker.db import write_transaction

SYNC = 0.5  # TRACKER_SYNC_INTERVAL, seconds
# A change crosses one tracker per interval at worst; three hops, and a loaded 2-core machine.
REACH = 3 * SYNC + 10
STAGED = 120  # seconds a transcode may take on a busy machine
LINE = {"a": "b", "b": "ac", "c": "bd", "d": "c"}  # each tracker's peers
CYCLE = {"a": "bd", "b": "ac", "c": "bd", "d": "ca"}


def start_network(tmp_path, wiring):
    """The trackers of `wiring`, each following the feeds of the peers it names."""
    ports = {name: free_port() for name in wiring}
    trackers = {}
    try:
        for name, peers in wiring.items():
            trackers[name] = start_tracker(
                tmp_path / name, port=ports[name], TRACKER_SYNC_INTERVAL=str(SYNC),
                TRACKER_PEERS=",".join(f"http://127.0.0.1:{ports[p]}" for p in peers))
    except BaseException:
        stop(trackers.values())
        raise
    return trackers


def stop(servers):
    for server in servers:
        server.stop()


def search(tracker, q):
    answer = requests.get(f"{tracker.url}/api/v1/videos", params={"q": q}, timeout=10)
    assert answer.status_code == 200, answer.text
    return [v["id"] for v in answer.json()["videos"]]


def video(tracker, video_id):
    return requests.get(f"{tracker.url}/api/v1/videos/{video_id}", timeout=10)


def channel_upload(tracker, clip, title):
    """A new channel uploads `clip` through `tracker`, as the website does: (channel, video id)."""
    channel = ChannelKey()
    placement = requests.post(f"{tracker.url}/api/v1/uploads", timeout=10,
                              json=channel.placement(title, size=os.path.getsize(clip)))
    assert placement.status_code == 200, placement.text
    return channel, wait_published(send(placement.json(), clip)["status_url"], timeout=STAGED)["video_id"]


def tracker_models(tracker):
    """The tracker's own models on its database and key, as an operator's tool would open them."""
    return create_app({"SLIPSTREAM_DATA_DIR": tracker.data_dir, "SLIPSTREAM_PUBLIC_URL": tracker.url,
                       "TRACKER_BACKGROUND": False})


def take_down_at(tracker, video_id):
    """The operator's takedown, through the tracker's own models (as its admin API does)."""
    with tracker_models(tracker).app_context(), write_transaction():
        changes.removed(Removal.remove(Video.get_by_id(video_id), "takedown", "test", 1.7e9))


def test_a_video_uploaded_through_a_reaches_d_down_a_line_plays_there_and_its_deletion_follows(
        tmp_path, small_clip):
    trackers = start_network(tmp_path, LINE)
    a, d = trackers["a"], trackers["d"]
    edge = start_edge(tmp_path / "edge", a.url)
    try:
        wait_for(lambda: announced(edge), message="the edge announced to A")
        channel, video_id = channel_upload(a, small_clip, "Gossip down the line")
        origin = video(a, video_id).json()

        wait_for(lambda: search(d, "gossip line") == [video_id], timeout=REACH, message="D finding A's video")
        seen = video(d, video_id).json()
        assert (seen["title"], seen["channel"]) == ("Gossip down the line", channel.id)
        assert (seen["origin"], seen["origin_url"]) == (origin["origin"], a.url)
        # The channel edits it at its origin, A: D follows; at D, which only relays A's record, a 409.
        edited = requests.patch(f"{a.url}/api/v1/videos/{video_id}", timeout=10,
                                json=channel.edit(video_id, title="Renamed down the line"))
        assert edited.status_code == 200, edited.text
        wait_for(lambda: video(d, video_id).json()["title"] == "Renamed down the line", timeout=REACH,
                 message="D following the edit")
        elsewhere = requests.patch(f"{d.url}/api/v1/videos/{video_id}", timeout=10,
                                   json=channel.edit(video_id, title="Forked at D"))
        assert (elsewhere.status_code, elsewhere.json()["error"]) == (409, "not_origin")
        assert search(d, "renamed") == [video_id]
        # D has no row of the channel (a feed carries videos, not channels): its page and Atom feed
        # answer from the video D learnt, the channel unnamed there.
        page = requests.get(f"{d.url}/api/v1/channels/{channel.id}", timeout=10)
        assert page.status_code == 200 and [v["id"] for v in page.json()["videos"]] == [video_id]
        atom = requests.get(f"{d.url}/c/{channel.id}/feed.atom", timeout=10)
        assert atom.status_code == 200 and "<title>Renamed down the line</title>" in atom.text

        # D holds no copy: the peers it asks (C, then B, then A) do.
        sources = requests.get(f"{d.url}/api/v1/videos/{video_id}/sources", timeout=10).json()
        assert [s["url"] for s in sources["sources"]] == [edge.url]
        master = requests.get(f"{sources['sources'][0]['url']}/videos/{video_id}/master.m3u8", timeout=10)
        assert master.status_code == 200 and master.text.startswith("#EXTM3U")

        # A donation through D is D's to record: to the channel's account, the finding tracker A
        # (the video's signed origin_url); the edge, audited by A but never by D, earns nothing on D.
        node = sources["sources"][0]["node"]
        gift = requests.post(f"{d.url}/api/v1/donations", headers={"Idempotency-Key": "line-gift"}, timeout=10, json={
            "video_id": video_id, "amount": 1000, "currency": "EUR", "served": {node: 5000},
            "found_by": sources["found_by"]})
        assert gift.status_code == 201, gift.text
        postings = {p["account"]: p["amount"] for p in gift.json()["postings"]}
        assert postings == {"donor:external": -1000, f"channel:{channel.id}": 970, f"tracker:{a.url}": 30}
        assert gift.json()["uncredited"] == [{"node": node, "bytes": 5000, "reason": "no_audited_copy"}]
        account = requests.get(f"{d.url}/api/v1/accounts/channel:{channel.id}", timeout=10).json()
        assert account["balances"] == {"EUR": 970}

        # The channel deletes it at A: its signed deletion travels down the line.
        deleted = requests.delete(f"{a.url}/api/v1/videos/{video_id}", json=channel.delete(video_id),
                                  timeout=10)
        assert deleted.status_code == 200, deleted.text
        wait_for(lambda: video(d, video_id).status_code == 410, timeout=REACH, message="the deletion at D")
        assert search(d, "gossip") == [] and search(trackers["b"], "gossip") == []
    finally:
        stop([edge, *trackers.values()])


def test_round_a_cycle_a_video_comes_once_to_every_tracker_and_goes_from_all(tmp_path):
    trackers = start_network(tmp_path, CYCLE)
    a = trackers["a"]
    try:
        with tracker_models(a).app_context(), write_transaction():
            made, unlisted = (Video.create(id=video_id, title=title, creator="circler", duration=4.0,
                                           renditions=[{"name": "360p", "width": 640, "height": 360,
                                                        "bandwidth": 800000}],
                                           size=1000, created=1.7e9, visibility=visibility)
                              for video_id, title, visibility in (("ab" * 20, "Round the cycle", "public"),
                                                                   ("cd" * 20, "Unlisted cycle", "unlisted")))
            changes.publish(made)
            changes.publish(unlisted)
        for tracker in trackers.values():
            wait_for(lambda t=tracker: video(t, unlisted.id).status_code == 200 and search(t, "cycle") == [made.id],
                     timeout=REACH, message=f"{tracker.url} learning both")
            assert video(tracker, unlisted.id).json()["visibility"] == "unlisted"  # travels, never listed
        # Each tracker's feed holds each change once, exactly as A signed it, A's own included.
        feeds = [requests.get(f"{t.url}/api/v1/catalog/changes", timeout=10).json()["changes"]
                 for t in trackers.values()]
        assert all(sorted(map(str, feed)) == sorted(map(str, feeds[0])) and len(feed) == 2 for feed in feeds)
        assert {c["record"]["origin_url"] for c in feeds[0]} == {a.url}

        take_down_at(a, made.id)
        for tracker in trackers.values():
            wait_for(lambda t=tracker: video(t, made.id).status_code == 410, timeout=REACH,
                     message=f"the deletion at {tracker.url}")
        tombstones = [requests.get(f"{t.url}/api/v1/catalog/changes", timeout=10).json()["changes"]
                      for t in trackers.values()]
        assert all({c["record"]["id"]: c["record"].get("removed") for c in feed}
                   == {made.id: "takedown", unlisted.id: None} for feed in tombstones)
    finally:
        stop(trackers.values())


def test_when_a_dies_its_videos_stay_searchable_and_playable_through_b(tmp_path, small_clip):
    """An edge announcing to A and B; a video uploaded through A reaches B's catalog by A's feed, the
    edge's next announce to B lists its copy, B audits it; then A is killed and B still finds, plays
    and credits it (the edge earns on B, which audited its copy)."""
    trackers = start_network(tmp_path, {"a": "b", "b": "a"})
    a, b = trackers["a"], trackers["b"]
    edge = start_edge(tmp_path / "edge", f"{a.url},{b.url}")
    try:
        wait_for(lambda: announced(edge), message="the edge announced")
        channel, video_id = channel_upload(a, small_clip, "Outlives its tracker")

        def b_sources():
            """The edges B itself lists (not those a federated lookup brings back from A)."""
            answer = requests.get(f"{b.url}/api/v1/videos/{video_id}/sources", timeout=10).json()
            return answer.get("found_by") == b.url and [s["url"] for s in answer["sources"]]
        wait_for(lambda: b_sources() == [edge.url], timeout=REACH + 10, message="B listing the edge's audited copy")
        a.kill()

        assert search(b, "outlives") == [video_id]
        assert b_sources() == [edge.url]
        master = requests.get(f"{edge.url}/videos/{video_id}/master.m3u8", timeout=10)
        assert master.status_code == 200 and master.text.startswith("#EXTM3U")
        node = requests.get(f"{edge.url}/api/v1/status", timeout=10).json()["node"]
        gift = requests.post(f"{b.url}/api/v1/donations", headers={"Idempotency-Key": "after-a"}, timeout=10, json={
            "video_id": video_id, "amount": 1000, "currency": "EUR", "served": {node: 5000}, "found_by": b.url})
        assert gift.status_code == 201, gift.text
        accounts = {p["account"] for p in gift.json()["postings"]}
        assert {f"channel:{channel.id}", f"node:{node}"} <= accounts and gift.json()["uncredited"] == []
    finally:
        stop([edge, *trackers.values()])
