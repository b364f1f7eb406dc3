"""Channels (README.md, channels): signed placements, the channel page, owners' edits and deletions,
unlisted videos, and the refusals: forged, foreign, replayed and stale documents, blocked channels."""
import sqlite3

import pytest

from protocol.signing import sign
from tests.channels import ChannelKey
from tests.edges import Edge
from tests.tracker.actions import assert_error, found, make_app, publish, source_nodes
from tracker.catalog.models import Removal, Video
from tracker.channels.models import Channel
from tracker.signers import SignedRequest


@pytest.fixture
def edge(client):
    edge = Edge()
    assert edge.announce(client).status_code == 200
    return edge


def publish_signed(client, edge, channel, title="A channel clip", **fields):
    """A channel's placement, then the edge's registration: returns the video's id."""
    placement = client.post("/api/v1/uploads", json=channel.placement(title, **fields))
    assert placement.status_code == 200, placement.json
    answer = edge.register(client, placement.json["upload"])
    assert answer.status_code == 201, answer.json
    edge.videos.append(answer.json["video_id"])
    return answer.json["video_id"]


def test_a_channel_names_itself_and_lists_its_public_videos(client, edge):
    channel = ChannelKey()
    created = client.post("/api/v1/channels", json=channel.update(name="Ann's clips", description="Piano"))
    assert created.status_code == 201, created.json
    assert created.json == {"channel": channel.id, "name": "Ann's clips", "description": "Piano",
                            "account": f"channel:{channel.id}", "blocked": False}
    video_id = publish_signed(client, edge, channel, "Nocturne")
    page = client.get(f"/api/v1/channels/{channel.id}").json
    assert page["name"] == "Ann's clips" and page["account"] == f"channel:{channel.id}"
    assert [v["id"] for v in page["videos"]] == [video_id]
    video = client.get(f"/api/v1/videos/{video_id}").json
    assert (video["channel"], video["visibility"], video["creator"]) == (channel.id, "public", "Ann's clips")
    in_the_making = client.post("/api/v1/uploads", json=channel.placement("Etude")).json["upload"]
    renamed = client.post("/api/v1/channels", json=channel.update(name="Ann plays", description=""))
    assert renamed.status_code == 200
    assert client.get(f"/api/v1/videos/{video_id}").json["creator"] == "Ann plays"  # older clients follow
    later = edge.register(client, in_the_making).json["video_id"]
    assert client.get(f"/api/v1/videos/{later}").json["creator"] == "Ann plays"


def test_a_channel_without_a_name_shows_a_short_form_of_its_key(client, edge):
    channel = ChannelKey()
    video_id = publish_signed(client, edge, channel)
    assert client.get(f"/api/v1/videos/{video_id}").json["creator"] == channel.id[:12]
    assert client.get(f"/api/v1/channels/{channel.id}").json["name"] == ""


def test_anonymous_uploads_keep_working(client, edge):
    video_id = publish(client, edge, "Plain", creator="bob")
    video = client.get(f"/api/v1/videos/{video_id}").json
    assert (video["channel"], video["visibility"], video["creator"]) == (None, "public", "bob")


def test_the_signed_documents_are_kept_as_received(client, edge, app):
    channel = ChannelKey()
    placement = channel.placement("Kept", visibility="public")
    upload = client.post("/api/v1/uploads", json=placement).json["upload"]
    video_id = edge.register(client, upload).json["video_id"]
    update = channel.update(name="Keeper")
    client.post("/api/v1/channels", json=update)
    with app.app_context():
        assert Video.get_by_id(video_id).document == placement
        assert Channel.get_by_id(channel.id).document == update
    edits = [channel.edit(video_id, title="Kept, edited"), channel.edit(video_id, description="d")]
    for edit in edits:
        assert client.patch(f"/api/v1/videos/{video_id}", json=edit).status_code == 200
    assert client.patch(f"/api/v1/videos/{video_id}", json=ChannelKey().edit(video_id, title="x")) \
        .status_code == 403
    deletion = channel.delete(video_id)
    assert client.delete(f"/api/v1/videos/{video_id}", json=deletion).status_code == 200
    with app.app_context():
        # The placement stays what proves the owner; each accepted request follows, in order.
        assert SignedRequest.about(video_id) == [*edits, deletion]
        assert SignedRequest.about(channel.id) == [update]
        assert Removal.get_by_id(video_id).document == deletion


@pytest.mark.parametrize("method, action, fields, replayed", [
    ("post", "channel", {"name": "x"}, (400, "replayed")),
    ("post", "upload", {"title": "t", "size": 10}, (400, "replayed")),
    ("patch", "edit", {"title": "t"}, (400, "replayed")),
    ("delete", "delete", {}, (410, "video_removed")),  # gone before the replay could be told
])
def test_forged_stale_and_replayed_documents_are_refused(client, edge, method, action, fields, replayed):
    channel, forger = ChannelKey(), ChannelKey()
    path = {"channel": "/api/v1/channels", "upload": "/api/v1/uploads"}.get(action)
    if path is None:
        video_id = publish_signed(client, edge, channel, "Mine")
        path, fields = f"/api/v1/videos/{video_id}", {"video_id": video_id, **fields}
    send = getattr(client, method)
    forged = sign({"action": action, "channel": channel.id, "timestamp": channel.stamp(), **fields}, forger.key)
    assert_error(send(path, json=forged), 403, "bad_signature")
    assert_error(send(path, json=channel.doc(action=action, timestamp=channel.stamp() - 3600, **fields)), 400,
                 "stale_timestamp")
    document = channel.doc(action=action, **fields)
    assert send(path, json=document).status_code in (200, 201)
    assert_error(send(path, json=document), *replayed)


def test_a_document_serves_only_its_own_action(client, edge):
    """An edit's payload holds all a deletion's does: without `action` it could delete the video."""
    channel = ChannelKey()
    video_id = publish_signed(client, edge, channel, "Stays")
    path = f"/api/v1/videos/{video_id}"
    edit = channel.edit(video_id, title="Renamed")
    refused = client.delete(path, json=edit)
    assert_error(refused, 400, "wrong_action")
    assert '"delete"' in refused.json["message"] and '"edit"' in refused.json["message"]
    assert client.get(path).status_code == 200
    assert_error(client.patch(path, json=channel.delete(video_id, title="Renamed")), 400, "wrong_action")
    assert_error(client.patch(path, json=channel.doc(video_id=video_id, title="Renamed")), 400, "wrong_action")
    assert_error(client.post("/api/v1/channels", json=channel.placement(name="Taken over")), 400, "wrong_action")
    assert_error(client.post("/api/v1/uploads", json=channel.update(title="t", size=10)), 400, "wrong_action")
    assert_error(client.post("/api/v1/uploads", json=channel.edit(video_id, title="t", size=10)), 400,
                 "wrong_action")
    # A refused document spent nothing: the edit still does what it was signed for.
    assert client.patch(path, json=edit).json["title"] == "Renamed"
    assert client.get(f"/api/v1/channels/{channel.id}").json["name"] == ""


def test_a_placement_field_is_checked_inside_the_signed_payload(client, edge):
    channel = ChannelKey()
    assert_error(client.post("/api/v1/uploads", json=channel.placement(visibility="secret")), 400,
                 "invalid_visibility")
    assert_error(client.post("/api/v1/uploads", json=channel.doc(action="upload", size=10)), 400, "invalid_title")


def test_unlisted_videos_play_by_id_but_are_never_listed(client, edge):
    channel = ChannelKey()
    hidden = publish_signed(client, edge, channel, "Secret rehearsal", visibility="unlisted")
    shown = publish_signed(client, edge, channel, "Public rehearsal")
    assert found(client, "rehearsal") == [shown]
    assert hidden not in [v["id"] for v in client.get("/api/v1/videos").json["videos"]]
    assert [v["id"] for v in client.get(f"/api/v1/channels/{channel.id}").json["videos"]] == [shown]
    video = client.get(f"/api/v1/videos/{hidden}")
    assert video.status_code == 200 and video.json["visibility"] == "unlisted"
    assert source_nodes(client, hidden) == [edge.id]


def owned(client, channel, page=1, document=None):
    """The channel's own listing of its videos, one page."""
    return client.post(f"/api/v1/channels/{channel.id}/videos", json=document or channel.listing(page))


def test_the_owner_lists_all_its_videos_public_and_unlisted_across_pages(client, edge):
    channel, other = ChannelKey(), ChannelKey()
    hidden = publish_signed(client, edge, channel, "Unlisted take", visibility="unlisted")
    public = [publish_signed(client, edge, channel, f"Take {n}") for n in range(20)]
    gone = publish_signed(client, edge, channel, "Deleted take", visibility="unlisted")
    publish_signed(client, edge, other, "Someone else's")
    assert client.delete(f"/api/v1/videos/{gone}", json=channel.delete(gone)).status_code == 200
    first, second = owned(client, channel, 1), owned(client, channel, 2)
    assert first.status_code == 200, first.json
    assert (first.json["page"], first.json["per_page"], first.json["total"]) == (1, 20, 21)
    assert (second.json["page"], second.json["total"], len(second.json["videos"])) == (2, 21, 1)
    listed = [v["id"] for v in first.json["videos"] + second.json["videos"]]
    assert sorted(listed) == sorted([hidden, *public])  # not the deleted one, nor another channel's
    by_id = {v["id"]: v for v in first.json["videos"] + second.json["videos"]}
    assert by_id[hidden]["visibility"] == "unlisted" and by_id[hidden]["channel"] == channel.id
    # Each item is as the public listing gives it.
    assert by_id[public[0]] == next(v for v in client.get(f"/api/v1/channels/{channel.id}").json["videos"]
                                    if v["id"] == public[0])
    assert owned(client, channel, 3).json["videos"] == []


def test_only_the_channels_own_fresh_list_document_sees_its_videos(client, edge):
    channel, stranger = ChannelKey(), ChannelKey()
    hidden = publish_signed(client, edge, channel, "Unlisted", visibility="unlisted")
    path = f"/api/v1/channels/{channel.id}/videos"
    # Another key's own valid document, sent to this channel's URL.
    assert_error(client.post(path, json=stranger.listing()), 403, "not_owner")
    # This channel's id in a payload signed by another key.
    forged = sign({"action": "list", "channel": channel.id, "timestamp": channel.stamp(), "page": 1}, stranger.key)
    assert_error(client.post(path, json=forged), 403, "bad_signature")
    assert_error(client.post(path, json=channel.edit(hidden, page=1)), 400, "wrong_action")
    assert_error(client.post(path, json=channel.doc(page=1)), 400, "wrong_action")
    assert_error(client.post("/api/v1/uploads", json=channel.listing()), 400, "wrong_action")
    assert_error(client.post(path, json=channel.listing(timestamp=channel.stamp() - 3600)), 400, "stale_timestamp")
    assert_error(client.post(path, json=channel.listing(page=0)), 400, "invalid_page")
    assert_error(client.post(path, json={"payload": {"page": 1}}), 400, "bad_document")
    # A listing is a read: it spends no timestamp, so an edit signed just before it (another device,
    # or the page still loading its list) is not refused as a replay, and the same listing may come again.
    edit = channel.edit(hidden, title="Renamed")
    document = channel.listing()
    assert [v["id"] for v in owned(client, channel, document=document).json["videos"]] == [hidden]
    assert client.patch(f"/api/v1/videos/{hidden}", json=edit).status_code == 200
    assert owned(client, channel, document=document).json["videos"][0]["title"] == "Renamed"
    assert_error(client.patch(f"/api/v1/videos/{hidden}", json=edit), 400, "replayed")  # edits still spend theirs


def test_the_owner_edits_title_description_and_visibility(client, edge):
    channel = ChannelKey()
    video_id = publish_signed(client, edge, channel, "Typo in titel")
    edited = client.patch(f"/api/v1/videos/{video_id}",
                          json=channel.edit(video_id, title="No typo in title", description="Fixed"))
    assert edited.status_code == 200, edited.json
    assert (edited.json["title"], edited.json["description"]) == ("No typo in title", "Fixed")
    assert found(client, "title") == [video_id] and found(client, "titel") == []
    hide = client.patch(f"/api/v1/videos/{video_id}", json=channel.edit(video_id, visibility="unlisted"))
    assert hide.json["visibility"] == "unlisted"
    assert found(client, "title") == [] and client.get(f"/api/v1/videos/{video_id}").status_code == 200
    assert_error(client.patch(f"/api/v1/videos/{video_id}", json=channel.edit(video_id)), 400,
                 "nothing_to_change")


def test_only_the_owner_may_edit_or_delete(client, edge):
    owner, other = ChannelKey(), ChannelKey()
    video_id = publish_signed(client, edge, owner, "Mine")
    anonymous = publish(client, edge, "Nobody's", creator="anon")
    for method, document in (("patch", other.edit), ("delete", other.delete)):
        answer = getattr(client, method)(f"/api/v1/videos/{video_id}", json=document(video_id, title="X"))
        assert_error(answer, 403, "not_owner")
        answer = getattr(client, method)(f"/api/v1/videos/{anonymous}", json=document(anonymous, title="X"))
        assert_error(answer, 403, "not_owner")
    # A document about another video cannot be replayed against this one.
    assert_error(client.patch(f"/api/v1/videos/{video_id}", json=owner.edit(anonymous, title="X")), 400,
                 "invalid_video_id")
    edit = owner.edit(video_id, title="Still mine")
    assert client.patch(f"/api/v1/videos/{video_id}", json=edit).status_code == 200
    assert_error(client.patch(f"/api/v1/videos/{video_id}", json=edit), 400, "replayed")
    assert client.get(f"/api/v1/videos/{video_id}").json["title"] == "Still mine"


def test_a_deleted_video_is_gone_everywhere_and_its_edges_told(client, edge):
    channel = ChannelKey()
    video_id = publish_signed(client, edge, channel, "Short-lived")
    deletion = channel.delete(video_id)
    deleted = client.delete(f"/api/v1/videos/{video_id}", json=deletion)
    assert deleted.status_code == 200, deleted.json
    assert deleted.json["video_id"] == video_id and deleted.json["removed"] == "deleted"
    assert_error(client.get(f"/api/v1/videos/{video_id}"), 410, "video_removed")
    assert_error(client.get(f"/api/v1/videos/{video_id}/sources"), 410, "video_removed")
    assert found(client, "short") == [] and client.get(f"/api/v1/channels/{channel.id}").json["videos"] == []
    assert_error(client.delete(f"/api/v1/videos/{video_id}", json=channel.delete(video_id)), 410,
                 "video_removed")
    tasks = edge.announce(client).json["tasks"]
    assert {"action": "remove", "video_id": video_id, "reason": "deleted"} in tasks
    # The same package registered again from a new placement: refused for good.
    upload = client.post("/api/v1/uploads", json=channel.placement("Back again")).json["upload"]
    assert_error(edge.register(client, upload, video_id), 410, "video_removed")
    donation = client.post("/api/v1/donations", headers={"Idempotency-Key": "k"}, json={
        "video_id": video_id, "amount": 100, "currency": "EUR"})
    assert_error(donation, 410, "video_removed")


def test_a_blocked_channel_can_do_nothing_until_unblocked(client, edge, app):
    app.config["TRACKER_ADMIN_TOKEN"] = "operator-secret"
    admin = {"Authorization": "Bearer operator-secret"}
    channel = ChannelKey()
    video_id = publish_signed(client, edge, channel, "Before the block")
    blocked = client.post(f"/api/v1/admin/channels/{channel.id}/block", headers=admin)
    assert blocked.status_code == 200 and blocked.json["blocked"] is True
    assert_error(client.post("/api/v1/uploads", json=channel.placement()), 403, "channel_blocked")
    assert_error(client.patch(f"/api/v1/videos/{video_id}", json=channel.edit(video_id, title="X")), 403,
                 "channel_blocked")
    assert_error(client.delete(f"/api/v1/videos/{video_id}", json=channel.delete(video_id)), 403,
                 "channel_blocked")
    assert_error(client.post("/api/v1/channels", json=channel.update(name="Back")), 403, "channel_blocked")
    assert client.post(f"/api/v1/admin/channels/{channel.id}/unblock", headers=admin).json["blocked"] is False
    assert client.post("/api/v1/channels", json=channel.update(name="Back")).status_code == 201
    # A channel may be blocked before it ever signed anything here.
    newcomer = ChannelKey()
    assert client.post(f"/api/v1/admin/channels/{newcomer.id}/block", headers=admin).status_code == 200
    assert_error(client.post("/api/v1/uploads", json=newcomer.placement()), 403, "channel_blocked")


def test_an_upload_placed_before_its_channel_was_blocked_does_not_register(client, edge, app):
    app.config["TRACKER_ADMIN_TOKEN"] = "operator-secret"
    admin = {"Authorization": "Bearer operator-secret"}
    channel = ChannelKey()
    upload = client.post("/api/v1/uploads", json=channel.placement("Placed in time")).json["upload"]
    assert client.post(f"/api/v1/admin/channels/{channel.id}/block", headers=admin).status_code == 200
    video_id = edge.make_package()
    assert_error(edge.register(client, upload, video_id), 403, "channel_blocked")
    assert client.get(f"/api/v1/videos/{video_id}").status_code == 404 and found(client, "placed") == []
    # Anonymous uploads are nobody's to block.
    assert publish(client, edge, "Placed anonymously", creator="anon")
    assert client.post(f"/api/v1/admin/channels/{channel.id}/unblock", headers=admin).status_code == 200
    assert edge.register(client, upload, video_id).status_code == 201


def test_takedowns_need_the_operators_token(client, edge, app):
    video_id = publish(client, edge, "Illegal", creator="someone")
    body = {"video_id": video_id, "reason": "court order 42"}
    assert_error(client.post("/api/v1/admin/takedowns", json=body), 403, "operator_api_off")
    app.config["TRACKER_ADMIN_TOKEN"] = "operator-secret"
    assert_error(client.post("/api/v1/admin/takedowns", json=body), 401, "unauthorized")
    assert_error(client.post("/api/v1/admin/takedowns", json=body, headers={"Authorization": "Bearer guess"}),
                 403, "forbidden")
    assert_error(client.post(f"/api/v1/admin/channels/{ChannelKey().id}/block"), 401, "unauthorized")
    admin = {"Authorization": "Bearer operator-secret"}
    taken = client.post("/api/v1/admin/takedowns", json=body, headers=admin)
    assert taken.status_code == 201, taken.json
    assert (taken.json["removed"], taken.json["reason"]) == ("takedown", "court order 42")
    gone = client.get(f"/api/v1/videos/{video_id}")
    assert_error(gone, 410, "video_removed")
    assert "court order 42" in gone.json["message"]
    assert found(client, "illegal") == []
    assert {"action": "remove", "video_id": video_id, "reason": "takedown"} in edge.announce(client).json["tasks"]
    assert_error(client.post("/api/v1/admin/takedowns", json=body, headers=admin), 410, "video_removed")
    assert_error(client.post("/api/v1/admin/takedowns", json={"video_id": video_id}, headers=admin), 400,
                 "invalid_reason")


def test_an_id_never_listed_here_may_be_taken_down_beforehand(client, edge, app):
    app.config["TRACKER_ADMIN_TOKEN"] = "operator-secret"
    future = edge.make_package()
    taken = client.post("/api/v1/admin/takedowns", json={"video_id": future, "reason": "known abuse"},
                        headers={"Authorization": "Bearer operator-secret"})
    assert taken.status_code == 201
    upload = client.post("/api/v1/uploads", json={"title": "t", "size": 1000}).json["upload"]
    assert_error(edge.register(client, upload, future), 410, "video_removed")


def test_donations_to_a_channel_video_credit_the_channel(client, edge):
    channel = ChannelKey()
    video_id = publish_signed(client, edge, channel, "Worth it")
    gift = client.post("/api/v1/donations", headers={"Idempotency-Key": "g1"}, json={
        "video_id": video_id, "amount": 1000, "currency": "EUR"})
    assert gift.status_code == 201, gift.json
    accounts = {p["account"] for p in gift.json["postings"]}
    assert f"channel:{channel.id}" in accounts and not any(a.startswith("creator:") for a in accounts)
    balance = client.get(f"/api/v1/accounts/channel:{channel.id}")
    assert balance.status_code == 200 and balance.json["balances"]["EUR"] > 0
    anonymous = publish(client, edge, "Old way", creator="carol")
    gift = client.post("/api/v1/donations", headers={"Idempotency-Key": "g2"}, json={
        "video_id": anonymous, "amount": 1000, "currency": "EUR"})
    assert "creator:carol" in {p["account"] for p in gift.json["postings"]}


def test_unknown_or_malformed_channels(client):
    assert_error(client.get(f"/api/v1/channels/{ChannelKey().id}"), 404, "unknown_channel")
    assert_error(client.get("/api/v1/channels/alice"), 400, "invalid_channel")
    assert_error(client.post("/api/v1/channels", json={"name": "no signature"}), 400, "bad_document")


def test_a_tracker_upgraded_from_before_channels_keeps_its_videos(tmp_path):
    client = make_app(tmp_path).test_client()
    edge = Edge()
    edge.announce(client)
    video_id = publish(client, edge, "From the old days", creator="dave")
    client.application.extensions["tracker.db"].close_all()
    old = sqlite3.connect(tmp_path / "tracker.db")
    for table, columns in (("video", ("channel", "visibility", "document")),
                           ("upload", ("channel", "visibility", "document"))):
        for column in columns:
            old.execute(f"DROP INDEX IF EXISTS {table}_{column}")
            old.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    old.execute("DROP TABLE channel")
    old.commit()
    old.close()
    upgraded = make_app(tmp_path).test_client()
    video = upgraded.get(f"/api/v1/videos/{video_id}").json
    assert (video["creator"], video["channel"], video["visibility"]) == ("dave", None, "public")
    assert found(upgraded, "days") == [video_id]
