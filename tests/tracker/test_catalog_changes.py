"""The catalog's change feed (tracker/catalog/changes.py, tracker/gossip/feed.py) and what a tracker
does with a peer's changes (tracker/gossip/records.py, follow.apply), on both databases."""
import threading

import nacl.signing
import pytest

from protocol.signing import node_id, sign, verify
from tests.channels import ChannelKey
from tests.edges import Edge
from tests.tracker.actions import assert_error, found, new_video_id, publish
from tracker.catalog import changes
from tracker.catalog.changes import Change
from tracker.catalog.models import Removal, Video
from tracker.db import database, write_transaction
from tracker.gossip.records import BadChange, checked
from tracker.gossip.store import store


def feed(client, since=None, limit=None):
    query = {name: value for name, value in (("since", since), ("limit", limit)) if value is not None}
    answer = client.get("/api/v1/catalog/changes", query_string=query)
    assert answer.status_code == 200, answer.json
    return answer.json


def read_all(client, limit):
    """Every change, following `next` page by page as a peer does; and the pages' sizes."""
    cursor, seen, sizes = None, [], []
    while True:
        page = feed(client, cursor, limit)
        sizes.append(len(page["changes"]))
        if not page["changes"]:
            assert page["next"] == (cursor or "0")  # an empty page leaves the cursor where it was
            return seen, sizes
        seen += page["changes"]
        cursor = page["next"]


def test_the_feed_pages_through_every_video_once_signed_by_this_tracker(app, client):
    edge = Edge()
    edge.announce(client)
    made = [publish(client, edge, f"Lesson {n}", creator="teacher") for n in range(5)]
    seen, sizes = read_all(client, limit=2)
    assert sizes == [2, 2, 1, 0]
    assert [c["record"]["id"] for c in seen] == made
    me = app.config["TRACKER_ID"]
    for change in seen:
        record = verify({"payload": change["record"], "signature": change["signature"]}, me)
        assert (record["origin"], record["origin_url"]) == (me, "https://tracker.example")
        assert record["title"].startswith("Lesson") and record["creator"] == "teacher"
        assert record["visibility"] == "public" and record["size"] > 0 and record["renditions"]
    assert feed(client)["changes"] == seen  # the default limit covers them all


def test_a_catalog_older_than_the_feed_is_signed_into_it_in_batches_as_publishing_would(app, client):
    edge = Edge()
    edge.announce(client)
    made = [publish(client, edge, f"Lesson {n}") for n in range(4)]
    placement = client.post("/api/v1/uploads", json=CHANNEL.placement("A channel's lesson"))
    made.append(edge.register(client, placement.json["upload"]).json["video_id"])
    edit = CHANNEL.edit(made[-1], title="A channel's lesson, edited")
    assert client.patch(f"/api/v1/videos/{made[-1]}", json=edit).status_code == 200
    published = {c["record"]["id"]: c for c in feed(client)["changes"]}
    with app.app_context():
        Change.delete().execute()  # as a catalog was before the feed existed
        with write_transaction():
            changes.publish(Video.get_by_id(made[2]))  # changed before the backfill reached it
        positions, after = [], None
        while (after := walk(after)) is not None:
            positions.append(after)
    assert len(positions) == 2  # 4 videos left, 2 a batch: each read once, no empty batch in between
    seen = feed(client)["changes"]
    order = [made[2], *made[:2], *made[3:]]  # the one already published keeps its place
    assert [c["record"]["id"] for c in seen] == order
    assert [c["record"]["seq"] for c in seen] == [1, 2, 3, 4, 5]
    me = app.config["TRACKER_ID"]
    for change in seen:
        record = verify({"payload": change["record"], "signature": change["signature"]}, me)
        assert {**record, "seq": 0} == {**published[record["id"]]["record"], "seq": 0}
    assert seen[-1]["record"]["documents"][-1] == edit
    assert checked(seen[-1], allow_private=True)["title"] == "A channel's lesson, edited"


def walk(after):
    with write_transaction():
        return changes.backfill(after, limit=2)


def test_a_changed_video_moves_to_the_end_of_the_feed_once(app, client):
    edge = Edge()
    edge.announce(client)
    first, second = publish(client, edge, "First"), publish(client, edge, "Second")
    cursor = feed(client)["next"]
    with app.app_context(), write_transaction():
        changes.removed(Removal.remove(Video.get_by_id(first), "takedown", "test", 1.7e9))
    after = feed(client, since=cursor)
    assert [(c["record"]["id"], c["record"].get("removed")) for c in after["changes"]] == [(first, "takedown")]
    assert [c["record"]["id"] for c in feed(client)["changes"]] == [second, first]


@pytest.mark.parametrize("since", ["x", "-1", "1.0", "1e3", "²", "9" * 19, " 1"])
def test_a_malformed_cursor_is_a_400(client, since):
    assert_error(client.get("/api/v1/catalog/changes", query_string={"since": since}), 400, "invalid_cursor")


def test_a_cursor_past_the_newest_change_starts_the_feed_again(client):
    """A follower of a feed whose database was replaced reads it again from the beginning."""
    assert feed(client, since="7") == {"changes": [], "next": "0"}
    edge = Edge()
    edge.announce(client)
    made = publish(client, edge, "After the reset")
    page = feed(client, since="7")
    assert ([c["record"]["id"] for c in page["changes"]], page["next"]) == ([made], "1")


@pytest.mark.parametrize("limit", ["0", "501", "-5", "ten", "1" * 5])
def test_a_limit_outside_1_to_500_is_a_400(client, limit):
    assert_error(client.get("/api/v1/catalog/changes", query_string={"limit": limit}), 400, "invalid_limit")


ORIGIN = nacl.signing.SigningKey.generate()


def peer_change(video_id=None, key=ORIGIN, seq=1, **fields):
    record = {"id": video_id or new_video_id(), "title": "From a peer", "description": "", "creator": "far",
              "channel": None, "duration": 4.0, "renditions": [{"name": "360p", "width": 640, "height": 360,
                                                                "bandwidth": 800000}],
              "poster": "poster.jpg", "size": 123456, "visibility": "public", "created": 1.7e9,
              "origin": node_id(key), "origin_url": "http://127.0.0.1:9", "seq": seq, **fields}
    return signed_record(record, key)


def signed_record(record, key=ORIGIN):
    document = sign(record, key)
    return {"record": document["payload"], "signature": document["signature"]}


def take(app, change):
    """What this tracker makes of a peer's change: checked, then applied as the follower does."""
    with app.app_context(), write_transaction():
        return store([(change, checked(change, allow_private=True))], app.config["TRACKER_ID"], 1.7e9)[0]


def test_a_peer_s_record_is_searchable_with_its_origin_and_relays_unchanged(app, client):
    change = peer_change(title="Far away piano")
    assert take(app, change) == "accepted"
    video = client.get(f"/api/v1/videos/{change['record']['id']}").json
    assert (video["title"], video["origin"], video["origin_url"]) == \
        ("Far away piano", node_id(ORIGIN), "http://127.0.0.1:9")
    assert found(client, "piano") == [change["record"]["id"]]
    assert feed(client)["changes"] == [change]  # byte for byte what the origin signed


def test_newer_replaces_older_and_a_tombstone_removes_the_video_but_stays_in_the_feed(app, client):
    video_id = new_video_id()
    assert take(app, peer_change(video_id, seq=5, title="Version five")) == "accepted"
    assert take(app, peer_change(video_id, seq=4, title="Version four")) == "stale"
    assert take(app, peer_change(video_id, seq=6, title="Version six")) == "accepted"
    assert client.get(f"/api/v1/videos/{video_id}").json["title"] == "Version six"
    tombstone = signed_record({"id": video_id, "removed": "takedown", "origin": node_id(ORIGIN),
                               "origin_url": "http://127.0.0.1:9", "seq": 7})
    assert take(app, tombstone) == "accepted"
    assert_error(client.get(f"/api/v1/videos/{video_id}"), 410, "video_removed")  # refused here for good
    assert feed(client)["changes"] == [tombstone]
    assert take(app, peer_change(video_id, seq=6, title="Back again")) == "stale"


def test_another_origin_cannot_retitle_or_remove_a_video(app, client):
    edge = Edge()
    edge.announce(client)
    ours = publish(client, edge, "Registered here")
    theirs = peer_change(title="First origin")
    take(app, theirs)
    other = nacl.signing.SigningKey.generate()
    assert take(app, peer_change(ours, key=other, seq=99, title="Taken over")) == "conflict"
    assert take(app, peer_change(theirs["record"]["id"], key=other, seq=99, title="Taken over")) == "conflict"
    assert client.get(f"/api/v1/videos/{ours}").json["title"] == "Registered here"
    assert client.get(f"/api/v1/videos/{theirs['record']['id']}").json["title"] == "First origin"


def test_our_own_record_coming_back_round_a_cycle_changes_nothing(app, client):
    edge = Edge()
    edge.announce(client)
    publish(client, edge, "Round trip")
    before = feed(client)
    assert take(app, before["changes"][0]) == "own"
    assert feed(client) == before


def test_an_unlisted_video_is_found_by_its_id_never_by_search(app, client):
    change = peer_change(title="Hidden gem", visibility="unlisted")
    take(app, change)
    assert client.get(f"/api/v1/videos/{change['record']['id']}").json["visibility"] == "unlisted"
    assert found(client, "gem") == [] and found(client, "") == []


def altered(change, **fields):
    return {"record": {**change["record"], **fields}, "signature": change["signature"]}


def claimed():
    """A record signed by ORIGIN's key that names another origin."""
    return peer_change(origin=node_id(nacl.signing.SigningKey.generate()))


@pytest.mark.parametrize("change", [
    altered(peer_change(), title="Altered in transit"),
    altered(peer_change(), size=1),
    claimed(),
    peer_change(title=""),
    peer_change(visibility="secret"),
    peer_change(origin_url="ftp://127.0.0.1"),
    peer_change(id="not-an-id"),
    peer_change(seq=0),
    peer_change(renditions=[]),
    peer_change(poster="../etc/passwd"),
    {"record": "x", "signature": "00"},
    {"record": {"removed": "deleted"}},
    signed_record({"id": "ab" * 20, "removed": "deleted", "origin": node_id(ORIGIN), "origin_url": "http://127.0.0.1:9",
                   "seq": 2}),
], ids=["altered", "size", "other-origin", "blank-title", "visibility", "url", "id", "seq", "renditions",
        "poster", "not-a-record", "no-signature", "deletion-without-its-channel"])
def test_a_change_that_fails_a_check_is_refused(app, client, change):
    with pytest.raises(BadChange):
        checked(change, allow_private=True)
    assert feed(client)["changes"] == []


CHANNEL = ChannelKey()


def channel_change(seq=1, document=None, edits=(), **fields):
    """A channel's video as its origin's feed carries it, with the channel's signed placement and edits."""
    placement = document or CHANNEL.placement("A channel's own title", description="Its words")
    return peer_change(video_id="ef" * 20, seq=seq, **{
        "channel": CHANNEL.id, "documents": [placement, *edits], "title": "A channel's own title",
        "description": "Its words", **fields})


def test_a_channel_s_video_must_carry_what_the_channel_signed(app, client):
    with pytest.raises(BadChange, match="title must be what the channel signed"):
        checked(channel_change(title="Retitled by its origin"), allow_private=True)  # the origin's own signature
    with pytest.raises(BadChange, match="visibility"):
        checked(channel_change(visibility="unlisted"), allow_private=True)
    forged = CHANNEL.placement("A channel's own title", description="Its words")
    forged["signature"] = "00" * 64
    with pytest.raises(BadChange, match="signed by the channel"):
        checked(channel_change(document=forged), allow_private=True)
    with pytest.raises(BadChange, match="this video's edits"):
        checked(channel_change(edits=[CHANNEL.edit("12" * 20, title="A channel's own title")]),
                allow_private=True)
    with pytest.raises(BadChange, match="begin with the channel's placement"):
        checked(channel_change(document=CHANNEL.edit("ef" * 20, title="A channel's own title")),
                allow_private=True)
    assert take(app, channel_change()) == "accepted"
    video = client.get(f"/api/v1/videos/{'ef' * 20}").json
    assert (video["channel"], video["title"]) == (CHANNEL.id, "A channel's own title")
    # An edit changes the title; the record must follow it, and the older edit stays proven too.
    placement = CHANNEL.placement("A channel's own title", description="Its words")
    renamed = CHANNEL.edit("ef" * 20, title="Renamed")
    hidden = CHANNEL.edit("ef" * 20, visibility="unlisted")
    with pytest.raises(BadChange, match="title must be what the channel signed"):
        checked(channel_change(seq=2, document=placement, edits=[renamed, hidden], visibility="unlisted"),
                allow_private=True)
    with pytest.raises(BadChange, match="in order"):
        checked(channel_change(seq=2, document=placement, edits=[hidden, renamed], title="Renamed",
                               visibility="unlisted"), allow_private=True)
    edited = channel_change(seq=2, document=placement, edits=[renamed, hidden], title="Renamed", visibility="unlisted")
    assert take(app, edited) == "accepted"
    assert client.get(f"/api/v1/videos/{'ef' * 20}").json["title"] == "Renamed"
    assert feed(client)["changes"] == [edited]


def test_a_channel_known_only_from_a_peer_s_feed_has_its_page_here(app, client):
    """Gossip makes no channel row: the channel's page answers from its relayed videos, unnamed here."""
    assert_error(client.get(f"/api/v1/channels/{CHANNEL.id}"), 404, "unknown_channel")
    assert take(app, channel_change()) == "accepted"
    page = client.get(f"/api/v1/channels/{CHANNEL.id}")
    assert page.status_code == 200, page.json
    assert (page.json["channel"], page.json["name"], page.json["account"]) == (CHANNEL.id, "", f"channel:{CHANNEL.id}")
    assert [v["id"] for v in page.json["videos"]] == ["ef" * 20] and page.json["total"] == 1
    assert_error(client.get(f"/api/v1/channels/{ChannelKey().id}"), 404, "unknown_channel")


def test_a_channel_s_deletion_through_any_tracker_removes_its_video(app, client):
    take(app, channel_change())
    other = nacl.signing.SigningKey.generate()  # another tracker, where the channel asked
    deletion = signed_record({"id": "ef" * 20, "removed": "deleted", "document": CHANNEL.delete("ef" * 20),
                              "origin": node_id(other), "origin_url": "http://127.0.0.1:8", "seq": 40}, other)
    assert take(app, deletion) == "accepted"
    assert_error(client.get(f"/api/v1/videos/{'ef' * 20}"), 410, "video_removed")
    assert feed(client)["changes"] == [deletion]  # relayed on
    # Only a channel's deletion travels so: another tracker's takedown leaves the origin's video be.
    assert take(app, peer_change("ab" * 20)) == "accepted"
    takedown = signed_record({"id": "ab" * 20, "removed": "takedown", "origin": node_id(other),
                              "origin_url": "http://127.0.0.1:8", "seq": 41}, other)
    assert take(app, takedown) == "conflict"
    assert client.get(f"/api/v1/videos/{'ab' * 20}").status_code == 200


def test_only_a_channel_s_deletion_document_removes_its_video_elsewhere(app, client):
    """A channel's edits are public in every feed and name the video as a deletion does: a tombstone
    carrying one (any tracker can sign one) is dropped, never stored or relayed."""
    placement = CHANNEL.placement("A channel's own title", description="Its words")
    renamed = CHANNEL.edit("ef" * 20, title="Renamed")
    edited = channel_change(document=placement, edits=[renamed], title="Renamed")
    assert take(app, edited) == "accepted"
    mallory = nacl.signing.SigningKey.generate()
    for document in (renamed, CHANNEL.edit("ef" * 20, title="Anything"), CHANNEL.doc(video_id="ef" * 20)):
        tombstone = signed_record({"id": "ef" * 20, "removed": "deleted", "document": document,
                                   "origin": node_id(mallory), "origin_url": "http://127.0.0.1:8", "seq": 7}, mallory)
        with pytest.raises(BadChange, match="the channel's deletion of this video"):
            checked(tombstone, allow_private=True)
    assert client.get(f"/api/v1/videos/{'ef' * 20}").json["title"] == "Renamed"
    assert feed(client)["changes"] == [edited]
    # Nor may a document of another action stand in the record as the placement or an edit.
    with pytest.raises(BadChange, match="begin with the channel's placement"):
        checked(channel_change(seq=2, document=CHANNEL.update(title="A channel's own title", description="Its words")),
                allow_private=True)
    with pytest.raises(BadChange, match="this video's edits"):
        checked(channel_change(seq=2, document=placement, edits=[CHANNEL.delete("ef" * 20, title="Renamed")],
                               title="Renamed"), allow_private=True)


def test_a_follower_paging_while_many_writers_commit_misses_none(app, client):
    """Sequence numbers are taken under the catalog's write lock, so they commit in order: a follower
    paging through the feed while several threads (as several workers would) write never steps past
    a change that commits later."""
    writers, each = 4, 12

    def write(n):
        with app.app_context(), database.connection_context():
            for i in range(each):
                with write_transaction():
                    changes.publish(Video.create(id=f"{n:02x}{i:02x}" + "0" * 36, title=f"Writer {n} video {i}",
                                                 creator="w", duration=1.0, renditions=[], size=1, created=1.7e9))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    seen, cursor = [], "0"
    while any(t.is_alive() for t in threads) or cursor != feed(client, since=cursor)["next"]:
        page = feed(client, since=cursor, limit=5)
        seen += [c["record"]["id"] for c in page["changes"]]
        cursor = page["next"]
    for thread in threads:
        thread.join()
    assert sorted(seen) == sorted(f"{n:02x}{i:02x}" + "0" * 36 for n in range(writers) for i in range(each))


def test_a_channel_s_new_name_is_a_change_of_each_of_its_videos(app, client):
    edge = Edge()
    edge.announce(client)
    placement = client.post("/api/v1/uploads", json=CHANNEL.placement("Named later"))
    video_id = edge.register(client, placement.json["upload"]).json["video_id"]
    cursor = feed(client)["next"]
    assert client.post("/api/v1/channels", json=CHANNEL.update(name="The Channel")).status_code in (200, 201)
    [change] = feed(client, since=cursor)["changes"]
    assert (change["record"]["id"], change["record"]["creator"]) == (video_id, "The Channel")
    assert checked(change, allow_private=True)["creator"] == "The Channel"  # still what the channel signed
