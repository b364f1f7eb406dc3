"""The tracker's API through Flask's test client, on a fresh SQLite database per test.

Edges are played by `Edge` (tests/edges.py): a real key and a real HTTP server on loopback, so
every test goes through the real signature, freshness, replay, proof and audit checks.
"""
import time

import pytest

from protocol.signing import sign
from protocol.tickets import decode_ticket
from tests.edges import Edge
from tests.tracker.actions import assert_error, audit_all, found, make_app, new_video_id, place, publish, source_nodes
from tracker import config, create_app
from tracker.__main__ import main as tracker_cli
from tracker.nodes.urls import check_node_url


# Announces -----------------------------------------------------------------------------------------

def test_announce_answers_interval_and_the_tracker_id(app, client):
    answer = Edge().announce(client)
    assert answer.status_code == 200, answer.json
    assert answer.json == {"interval": 30, "min interval": 15, "tracker": app.config["TRACKER_ID"], "tasks": []}
    assert len(app.config["TRACKER_ID"]) == 64


def test_tracker_key_survives_a_restart(tmp_path):
    assert make_app(tmp_path).config["TRACKER_ID"] == make_app(tmp_path).config["TRACKER_ID"]
    assert (tmp_path / "tracker.key").stat().st_mode & 0o077 == 0


def test_tracker_key_from_the_environment_makes_processes_one_tracker(tmp_path, capsys):
    """Two processes on different disks with the same TRACKER_KEY are one tracker, and `python -m
    tracker key --data-dir` hands a key file's identity over to TRACKER_KEY."""
    tracker_cli(["key"])
    seed = capsys.readouterr().out.strip()
    first = make_app(tmp_path / "a", TRACKER_KEY=bytes.fromhex(seed))
    second = create_app({"SLIPSTREAM_DATA_DIR": str(tmp_path / "b"), "TRACKER_BACKGROUND": False,
                         **config.from_environment({"TRACKER_KEY": seed.upper()})})
    assert first.config["TRACKER_ID"] == second.config["TRACKER_ID"]
    assert not (tmp_path / "a" / "tracker.key").exists()
    from_file = make_app(tmp_path / "c").config["TRACKER_ID"]
    tracker_cli(["key", "--data-dir", str(tmp_path / "c")])
    moved = make_app(tmp_path / "d", TRACKER_KEY=bytes.fromhex(capsys.readouterr().out.strip()))
    assert moved.config["TRACKER_ID"] == from_file


@pytest.mark.parametrize("value", ["abc", "g" * 64, "00" * 33])
def test_a_malformed_tracker_key_stops_the_tracker(value):
    with pytest.raises(ValueError, match="TRACKER_KEY"):
        config.from_environment({"TRACKER_KEY": value})


def test_replayed_announce_is_refused(client):
    edge = Edge()
    document = edge.announce_doc()
    assert client.post("/api/v1/nodes/announce", json=document).status_code == 200
    assert_error(client.post("/api/v1/nodes/announce", json=document), 400, "replayed")


def test_older_announce_is_refused_after_a_newer_one(client):
    edge = Edge()
    older = edge.announce_doc()
    assert edge.announce(client).status_code == 200
    assert_error(client.post("/api/v1/nodes/announce", json=older), 400, "replayed")


@pytest.mark.parametrize("skew", [-400, 400])
def test_stale_timestamp_is_refused(client, skew):
    edge = Edge()
    assert_error(edge.announce(client, timestamp=time.time() + skew), 400, "stale_timestamp")


def test_freshness_is_judged_by_the_trackers_clock(tmp_path, clock):
    client = make_app(tmp_path, CLOCK=clock).test_client()
    edge, stamp = Edge(), clock()
    clock.advance(300)
    assert edge.announce(client, timestamp=stamp).status_code == 200  # 300 s old: within the skew
    clock.advance(1)
    assert_error(edge.announce(client, timestamp=stamp + 0.5), 400, "stale_timestamp")


@pytest.mark.parametrize("stamp", [float("nan"), float("inf"), True, "now", None])
def test_odd_timestamps_are_refused(client, stamp):
    assert_error(Edge().announce(client, timestamp=stamp), 400, "stale_timestamp")


def test_forged_and_tampered_announces_are_refused(client):
    victim, forger = Edge(), Edge()
    forged = forger.announce_doc(node=victim.id)  # claims the victim's id, signed by another key
    assert_error(client.post("/api/v1/nodes/announce", json=forged), 403, "bad_signature")
    tampered = victim.announce_doc()
    tampered["payload"]["url"] = "https://evil.example"
    assert_error(client.post("/api/v1/nodes/announce", json=tampered), 403, "bad_signature")
    # Neither took: the victim's first real announce is accepted.
    assert victim.announce(client).status_code == 200


@pytest.mark.parametrize("body", [
    None, [], {"payload": {}}, {"payload": "x", "signature": "00"},
    {"payload": {"node": "abc"}, "signature": "00"},
])
def test_malformed_announce_bodies_get_400(client, body):
    answer = client.post("/api/v1/nodes/announce", json=body)
    assert answer.status_code == 400 and set(answer.json) == {"error", "message"}


@pytest.mark.parametrize("url", [
    "ftp://edge.example", "file:///etc/passwd", "javascript:alert(1)", "", "edge.example",
    "http://user:secret@edge.example", "http://@edge.example", "https://edge.example/?x=1",
    "https://edge.example/#frag", "http://edge.example:99999", "http://edge example.org",
    "http://127.0.0.1:8001", "http://localhost:8001", "http://LOCALHOST", "http://box.local",
    "http://10.1.2.3", "http://192.168.0.10", "http://172.16.5.5", "http://169.254.169.254",
    "http://[::1]:8001", "http://[fd00::1]", "http://[::ffff:127.0.0.1]", "http://0.0.0.0",
    "http://2130706433", "http://0x7f.1", "http://127.1", "http://intranet",
])
def test_bad_node_urls_are_refused(tmp_path, url):
    client = make_app(tmp_path, TRACKER_ALLOW_PRIVATE=False).test_client()
    assert_error(Edge(url=url).announce(client), 422, "invalid_url")


@pytest.mark.parametrize("url,allow_private,stored", [
    ("https://Edge.Example.org:8443/base/", False, "https://edge.example.org:8443/base"),
    ("http://8.8.8.8", False, "http://8.8.8.8"),
    ("http://[2001:4860::8888]:80", False, "http://[2001:4860::8888]:80"),
    ("http://127.0.0.1:8001/", True, "http://127.0.0.1:8001"),
    ("http://10.0.0.5:8001", True, "http://10.0.0.5:8001"),
    ("http://localhost:8001", True, "http://localhost:8001"),
])
def test_good_node_urls_are_stored_without_trailing_slash(url, allow_private, stored):
    # Checked without announcing: an announced URL is proven, and tests send nothing beyond loopback.
    assert check_node_url(url, allow_private) == stored


def test_an_announced_url_is_kept_as_proven(client):
    edge = Edge()
    edge.url += "/"
    assert edge.announce(client).status_code == 200
    assert place(client).json["upload_url"] == edge.url.rstrip("/") + "/api/v1/uploads"


def test_unspecified_address_is_refused_even_on_a_private_network(tmp_path):
    client = make_app(tmp_path, TRACKER_ALLOW_PRIVATE=True).test_client()
    assert_error(Edge(url="http://0.0.0.0:8001").announce(client), 422, "invalid_url")


@pytest.mark.parametrize("changes,code", [
    ({"capacity": -1}, "invalid_capacity"), ({"used": "lots"}, "invalid_used"),
    ({"capacity": True}, "invalid_capacity"), ({"videos": ["nope"]}, "invalid_videos"),
    ({"videos": "abc"}, "invalid_videos"), ({"event": "exploded"}, "invalid_event"),
])
def test_bad_announce_fields_get_400(client, changes, code):
    assert_error(Edge().announce(client, **changes), 400, code)


# Placement -----------------------------------------------------------------------------------------

def test_placement_signs_a_ticket_for_a_live_edge(app, client):
    edge = Edge()
    edge.announce(client)
    answer = place(client, "My clip", 12345, description="words", creator="ann")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert set(body) == {"upload_url", "ticket", "node", "expires", "upload"}
    assert body["upload_url"] == edge.url + "/api/v1/uploads" and body["node"] == edge.id
    ticket = decode_ticket(body["ticket"], app.config["TRACKER_ID"])
    assert ticket == {"upload": body["upload"], "node": edge.id, "size": 12345, "expires": body["expires"],
                      "tracker": app.config["TRACKER_ID"]}
    assert 3599 < body["expires"] - time.time() <= 3601


def test_placement_picks_the_edge_with_room(client):
    small, big = Edge(capacity=5000), Edge(capacity=10**6)
    small.announce(client)
    big.announce(client)
    assert {place(client, size=6000).json["node"] for _ in range(10)} == {big.id}


def test_placement_spreads_by_free_space(client):
    one, two = Edge(capacity=10**6), Edge(capacity=10**6)
    one.announce(client)
    two.announce(client)
    assert {place(client, size=10).json["node"] for _ in range(40)} == {one.id, two.id}


def test_full_edge_after_used_bytes_gets_no_placement(client):
    Edge(capacity=10_000, used=9_500).announce(client)
    assert_error(place(client, size=600), 507, "no_space")
    assert place(client, size=500).status_code == 200


def test_no_live_edge_is_507(client):
    assert_error(place(client), 507, "no_space")


def test_stopped_edge_is_dead_at_once(client):
    edge = Edge()
    edge.announce(client)
    assert edge.announce(client, event="stopped").status_code == 200
    assert_error(place(client), 507, "no_space")
    assert edge.announce(client).status_code == 200
    assert place(client).status_code == 200


def test_silent_edge_dies_after_the_ttl(tmp_path, clock):
    client = make_app(tmp_path, TRACKER_NODE_TTL=60, CLOCK=clock).test_client()
    Edge().announce(client)
    clock.advance(60)
    assert place(client).status_code == 200  # silent for exactly the TTL: still live
    clock.advance(1)
    assert_error(place(client), 507, "no_space")


def test_reservations_prevent_overcommit(client):
    edge = Edge(capacity=1000)
    edge.announce(client)
    assert place(client, size=600).status_code == 200
    assert_error(place(client, size=600), 507, "no_space")
    assert place(client, size=400).status_code == 200
    assert_error(place(client, size=1), 507, "no_space")


def test_expired_reservations_free_their_space(tmp_path, clock):
    client = make_app(tmp_path, TRACKER_TICKET_TTL=10, CLOCK=clock).test_client()
    Edge(capacity=1000).announce(client)
    expires = place(client, size=1000).json["expires"]
    assert expires == clock() + 10
    clock.advance(9)
    assert_error(place(client, size=1000), 507, "no_space")
    clock.advance(1)  # the ticket's `expires`: its reservation ends
    assert place(client, size=1000).status_code == 200


@pytest.mark.parametrize("body,code", [
    ({"size": 10}, "invalid_title"), ({"title": "", "size": 10}, "invalid_title"),
    ({"title": "   ", "size": 10}, "invalid_title"), ({"title": "x" * 201, "size": 10}, "invalid_title"),
    ({"title": 5, "size": 10}, "invalid_title"), ({"title": "ok"}, "invalid_size"),
    ({"title": "ok", "size": 0}, "invalid_size"), ({"title": "ok", "size": -5}, "invalid_size"),
    ({"title": "ok", "size": "10"}, "invalid_size"), ({"title": "ok", "size": 1.5}, "invalid_size"),
    ({"title": "ok", "size": True}, "invalid_size"),
    ({"title": "ok", "size": 10, "creator": ["x"]}, "invalid_creator"),
    ({"title": "ok", "size": 10, "description": "d" * 5001}, "invalid_description"),
])
def test_bad_placement_requests_get_400(client, body, code):
    Edge().announce(client)
    assert_error(client.post("/api/v1/uploads", json=body), 400, code)


def test_placement_needs_a_json_object(client):
    assert_error(client.post("/api/v1/uploads", data="title=x&size=5"), 400, "bad_json")
    assert_error(client.post("/api/v1/uploads", json=["x"]), 400, "bad_json")


# Registration --------------------------------------------------------------------------------------

def test_registration_publishes_with_the_placement_metadata(client):
    edge = Edge()
    edge.announce(client)
    video_id = publish(client, edge, "Sunset", description="over the sea", creator="ann")
    item = client.get(f"/api/v1/videos/{video_id}").json
    assert item["title"] == "Sunset" and item["description"] == "over the sea" and item["creator"] == "ann"
    assert item["duration"] == 6.0 and item["size"] == edge.package_size(video_id)
    assert item["renditions"] == [{"name": "360p", "width": 640, "height": 360, "bandwidth": 800000}]
    assert item["poster_url"] == f"{edge.url}/videos/{video_id}/poster.jpg"
    assert item["created"].endswith("Z") and "T" in item["created"]


def test_audio_only_video_registers_with_null_dimensions(client):
    edge = Edge()
    edge.announce(client)
    upload = place(client).json["upload"]
    audio = [{"name": "audio", "width": None, "height": None, "bandwidth": 128000, "playlist": "audio.m3u8"}]
    answer = edge.register(client, upload, edge.make_package(renditions=audio, poster=None))
    assert answer.status_code == 201, answer.json
    item = client.get(f"/api/v1/videos/{answer.json['video_id']}").json
    assert item["renditions"] == [{"name": "audio", "width": None, "height": None, "bandwidth": 128000}]
    assert item["poster_url"] is None


def test_creator_defaults_to_anonymous(client):
    edge = Edge()
    edge.announce(client)
    assert client.get(f"/api/v1/videos/{publish(client, edge)}").json["creator"] == "anonymous"


def test_registration_requires_the_tickets_node(client):
    placed, other = Edge(capacity=10**6), Edge(capacity=10)
    placed.announce(client)
    other.announce(client)
    upload = place(client).json["upload"]
    assert_error(other.register(client, upload), 403, "wrong_node")
    assert_error(Edge().register(client, upload), 403, "unknown_node")
    assert_error(placed.register(client, "no-such-upload"), 404, "unknown_upload")
    assert placed.register(client, upload).status_code == 201


def test_registration_is_idempotent_but_not_replayable(client):
    edge = Edge()
    edge.announce(client)
    upload, video_id = place(client).json["upload"], edge.make_package()
    document = edge.registration_doc(upload, video_id)
    first = client.post("/api/v1/videos", json=document)
    assert first.status_code == 201 and first.json == {"video_id": video_id}
    assert_error(client.post("/api/v1/videos", json=document), 400, "replayed")
    again = edge.register(client, upload, video_id)
    assert again.status_code == 201 and again.json == {"video_id": video_id}
    assert_error(edge.register(client, upload), 409, "upload_used")
    assert client.get("/api/v1/videos").json["total"] == 1


def test_an_announce_and_a_registration_in_the_same_instant_both_count(client):
    edge = Edge()
    stamp = time.time()
    assert edge.announce(client, timestamp=stamp).status_code == 200
    upload = place(client).json["upload"]
    assert edge.register(client, upload, timestamp=stamp).status_code == 201


def test_registration_ends_the_reservation_and_counts_the_bytes(client):
    edge = Edge(capacity=100_000)
    edge.announce(client)
    upload, video_id = place(client, size=90_000).json["upload"], edge.make_package()
    assert edge.register(client, upload, video_id).status_code == 201
    # The package's bytes now used (until the next announce says otherwise), the reservation gone.
    room = 100_000 - edge.package_size(video_id)
    assert_error(place(client, size=room + 1), 507, "no_space")
    assert place(client, size=room).status_code == 200


@pytest.mark.parametrize("changes,code", [({"video_id": "XYZ"}, "invalid_video_id"), ({"upload": ""}, "invalid_upload")])
def test_bad_registrations_get_400(client, changes, code):
    edge = Edge()
    edge.announce(client)
    upload = place(client).json["upload"]
    document = sign({**edge.registration_doc(upload, edge.make_package())["payload"], **changes}, edge.key)
    assert_error(client.post("/api/v1/videos", json=document), 400, code)


@pytest.mark.parametrize("facts", [
    {"duration": -1}, {"duration": "long"}, {"renditions": []}, {"poster": "../etc/passwd"}, {"poster": "absent.jpg"},
    {"renditions": [{"name": "x", "width": 0, "height": 360, "bandwidth": 1}]},
    {"renditions": [{"name": "x", "width": 640, "height": 360}]},
    {"files": {"a.m4s": {"sha256": "00" * 32, "size": -1}}}, {"files": {"a.m4s": {"sha256": "00" * 32, "size": 1.5}}},
])
def test_registrations_of_packages_that_are_not_sound_get_422(client, facts):
    """The package's facts come from its manifest, fetched from the edge and checked, not from the request."""
    edge = Edge()
    edge.announce(client)
    upload = place(client).json["upload"]
    assert_error(edge.register(client, upload, edge.make_package(**facts)), 422, "bad_package")
    assert client.get("/api/v1/videos").json["total"] == 0


# Catalog and sources -------------------------------------------------------------------------------

def test_search_finds_title_description_and_creator(client):
    edge = Edge()
    edge.announce(client)
    cat = publish(client, edge, "Cat on a piano", creator="tom")
    dog = publish(client, edge, "Dog in the park", description="a very good boy")
    assert found(client, "piano") == [cat]
    assert found(client, "PIANO cat") == [cat]
    assert found(client, "good boy") == [dog]
    assert found(client, "tom") == [cat]
    assert found(client, "") == [dog, cat]  # newest first
    assert found(client, "piano dog") == []
    assert found(client, "100%") == [] and found(client, "_") == []


def test_catalog_pages_by_twenty(client):
    edge = Edge()
    edge.announce(client)
    made = [publish(client, edge, f"clip {i}") for i in range(23)]
    first = client.get("/api/v1/videos").json
    second = client.get("/api/v1/videos?page=2").json
    assert (first["total"], first["page"], first["per_page"], len(first["videos"])) == (23, 1, 20, 20)
    assert [v["id"] for v in first["videos"] + second["videos"]] == made[::-1]
    assert client.get("/api/v1/videos?page=3").json["videos"] == []


@pytest.mark.parametrize("query,code", [("page=0", "invalid_page"), ("page=x", "invalid_page"),
                                        ("page=-1", "invalid_page"), ("page=²", "invalid_page"),
                                        ("page=" + "9" * 5000, "invalid_page"), ("q=" + "x" * 201, "invalid_q")])
def test_bad_catalog_queries_get_400(client, query, code):
    assert_error(client.get("/api/v1/videos?" + query), 400, code)


def test_sources_list_only_live_edges_most_free_first(tmp_path, clock):
    app = make_app(tmp_path, TRACKER_NODE_TTL=2, CLOCK=clock)
    client = app.test_client()
    roomy = Edge(capacity=10**6)
    tight = Edge(capacity=10**5)
    gone = Edge(capacity=10**7)
    roomy.announce(client)
    video_id = publish(client, roomy)
    for edge in (tight, gone):
        edge.copy_from(roomy, video_id)
        assert edge.announce(client).status_code == 200
    assert source_nodes(client, video_id) == [roomy.id]  # the others' copies are not audited yet
    audit_all(app)
    answer = client.get(f"/api/v1/videos/{video_id}/sources").json
    assert answer["video_id"] == video_id and answer["found_by"] == "https://tracker.example"
    assert [s["node"] for s in answer["sources"]] == [gone.id, roomy.id, tight.id]
    assert answer["sources"][0] == {"node": gone.id, "url": gone.url, "reach": "http"}
    gone.announce(client, event="stopped")
    assert source_nodes(client, video_id) == [roomy.id, tight.id]
    clock.advance(3)  # longer than the TTL: only an edge that announces again is live
    tight.announce(client)
    assert [s["url"] for s in client.get(f"/api/v1/videos/{video_id}/sources").json["sources"]] == [tight.url]
    assert client.get(f"/api/v1/videos/{video_id}").json["poster_url"].startswith(tight.url + "/videos/")


def test_poster_url_is_null_without_a_live_source(client):
    edge = Edge()
    edge.announce(client)
    video_id = publish(client, edge)
    edge.announce(client, event="stopped")
    assert client.get(f"/api/v1/videos/{video_id}").json["poster_url"] is None
    assert client.get(f"/api/v1/videos/{video_id}/sources").json["sources"] == []


def test_announce_replaces_copies_and_ignores_unknown_videos(app, client):
    edge, other = Edge(), Edge(capacity=1)
    edge.announce(client)
    video_id = publish(client, edge)
    other.copy_from(edge, video_id)
    other.videos.append(new_video_id())
    assert other.announce(client).status_code == 200
    audit_all(app)
    assert source_nodes(client, video_id) == [edge.id, other.id]
    other.videos = []
    other.announce(client)
    assert source_nodes(client, video_id) == [edge.id]


@pytest.mark.parametrize("path,status,code", [
    (f"/api/v1/videos/{'0' * 40}", 404, "unknown_video"),
    (f"/api/v1/videos/{'0' * 40}/sources", 404, "unknown_video"),
    ("/api/v1/videos/not-an-id", 400, "invalid_video_id"),
    (f"/api/v1/videos/{'A' * 40}/sources", 400, "invalid_video_id"),
    ("/api/v1/no-such-thing", 404, "not_found"),
])
def test_unknown_and_malformed_video_ids(client, path, status, code):
    assert_error(client.get(path), status, code)


# Errors, CORS, operations --------------------------------------------------------------------------

def test_flask_errors_use_the_json_shape(tmp_path):
    client = make_app(tmp_path, MAX_CONTENT_LENGTH=1024).test_client()
    assert_error(client.delete("/api/v1/uploads"), 405, "method_not_allowed")
    assert_error(client.post("/api/v1/nodes/announce", data=b"x" * 2048, content_type="application/json"),
                 413, "request_entity_too_large")


def test_unexpected_errors_are_json_500s(tmp_path):
    app = make_app(tmp_path, TESTING=False)
    app.add_url_rule("/api/v1/boom", "boom", lambda: 1 / 0)
    assert_error(app.test_client().get("/api/v1/boom"), 500, "internal_server_error")


def test_cors_preflight_allows_any_website_without_credentials(client):
    answer = client.options("/api/v1/uploads", headers={
        "Origin": "https://site.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert answer.status_code in (200, 204)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "content-type" in answer.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in answer.headers
    assert client.get("/api/v1/videos").headers["Access-Control-Allow-Origin"] == "*"


def test_healthz_metrics_and_openapi(client):
    assert client.get("/healthz").json == {"status": "ok"}
    Edge().announce(client)
    place(client)
    metrics = client.get("/metrics")
    assert metrics.content_type.startswith("text/plain")
    text = metrics.get_data(as_text=True)
    for line in ('tracker_announces_total{result="accepted"} 1.0', 'tracker_placements_total{result="placed"} 1.0',
                 "tracker_live_nodes 1.0", "tracker_videos 0.0"):
        assert line in text
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    assert {"/api/v1/nodes/announce", "/api/v1/uploads", "/api/v1/videos", "/api/v1/videos/{video_id}",
            "/api/v1/videos/{video_id}/sources", "/healthz", "/metrics"} <= set(spec["paths"])


def test_two_apps_in_one_process_keep_their_own_data(tmp_path):
    first, second = make_app(tmp_path / "a").test_client(), make_app(tmp_path / "b").test_client()
    Edge().announce(first)
    assert place(first).status_code == 200
    assert place(second).status_code == 507


def test_website_is_mounted(client):
    assert client.get("/").status_code == 200


# Settings ------------------------------------------------------------------------------------------

def test_settings_come_from_defaults_then_environment_then_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SLIPSTREAM_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("TRACKER_ANNOUNCE_INTERVAL", "7")
    monkeypatch.setenv("TRACKER_ALLOW_PRIVATE", "yes")
    monkeypatch.setenv("TRACKER_PEERS", "https://a.example/, https://b.example")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TRACKER_NODE_TTL", raising=False)
    # No auditor thread: it would outlive the test, on whatever database the next test opens.
    config = create_app({"TRACKER_REPLICAS": 3, "TRACKER_BACKGROUND": False}).config
    assert config["TRACKER_ANNOUNCE_INTERVAL"] == 7 and config["TRACKER_NODE_TTL"] == 21
    assert config["TRACKER_ALLOW_PRIVATE"] is True and config["TRACKER_REPLICAS"] == 3
    assert config["TRACKER_PEERS"] == ["https://a.example", "https://b.example"]
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path}/env/tracker.db"
    assert config["TRACKER_TICKET_TTL"] == 3600
    from_arg = create_app({"SLIPSTREAM_DATA_DIR": str(tmp_path / "arg"), "TRACKER_BACKGROUND": False}).config
    assert from_arg["DATABASE_URL"] == f"sqlite:///{tmp_path}/arg/tracker.db"


def test_malformed_setting_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_ANNOUNCE_INTERVAL", "soon")
    with pytest.raises(ValueError, match="TRACKER_ANNOUNCE_INTERVAL"):
        make_app(tmp_path)
