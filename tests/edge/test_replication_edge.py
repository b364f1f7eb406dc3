"""The edge's side of replication and hand-over: pulling from (partly bad or hostile) sources,
operator actions."""
import json
import os
import threading

import pytest
from flask import Response, redirect

from edge.errors import ApiError
from edge.handover import delete_copy
from edge.models import Hold, db
from edge.replication import BASE_DEADLINE, MAX_DEADLINE, ReplicationError, Replicator, deadline_for, pull_client, \
    replicate
from protocol.ids import canonical_json, content_id
from protocol.manifest import verify_dir
from tests.edge.package import published_video
from tests.edge.sources import Source

SEGMENT = "360p_00000.m4s"


@pytest.fixture
def package(node):
    """A published video's id and files (taken out of this edge again, so it can be replicated)."""
    video_id = published_video(node)
    directory = node.video_path(video_id)
    files = {}
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), "rb") as f:
            files[name] = f.read()
    node.unpublish(video_id)
    return video_id, files


@pytest.fixture
def pulls():
    """The edge's guarded client as tests run it: loopback sources allowed (EDGE_ALLOW_PRIVATE)."""
    return pull_client(allow_private=True)


@pytest.fixture
def sources():
    started = []

    def start(files):
        started.append(Source(files))
        return started[-1]
    yield start
    for source in started:
        source.close()


def nothing_left(node):
    with db.connection_context():
        return os.listdir(node.staging) == [] and Hold.select().count() == 0


def test_a_corrupt_file_is_fetched_again_from_the_next_source(node, package, sources, pulls):
    video_id, files = package
    bad = sources({**files, SEGMENT: b"X" + files[SEGMENT][1:]})
    short = sources({**files, SEGMENT: files[SEGMENT][:-10], "poster.jpg": files["poster.jpg"] + b"tail"})
    good = sources(files)
    assert replicate(node, video_id, [bad.url, short.url, good.url], pulls)
    assert verify_dir(node.video_path(video_id), video_id) == []
    assert video_id in node.published() and nothing_left(node)


@pytest.mark.parametrize("case", ["corrupt everywhere", "forged manifest", "missing file", "unreachable"])
def test_nothing_unverified_is_published(node, package, sources, pulls, case):
    video_id, files = package
    if case == "corrupt everywhere":
        urls = [sources({**files, SEGMENT: b"X" * len(files[SEGMENT])}).url]
    elif case == "forged manifest":
        forged = json.loads(files["manifest.json"])
        forged["files"][SEGMENT]["size"] += 1
        urls = [sources({**files, "manifest.json": json.dumps(forged).encode()}).url]
    elif case == "missing file":
        urls = [sources({k: v for k, v in files.items() if k != SEGMENT}).url]
    else:
        urls = ["http://127.0.0.1:9"]
    with pytest.raises(ReplicationError):
        replicate(node, video_id, urls, pulls)
    assert video_id not in node.published() and nothing_left(node)


def test_replication_holds_the_package_size(node, package, sources, pulls):
    video_id, files = package
    with open(os.path.join(node.videos, "filler"), "wb") as f:
        f.truncate(10**7 - 100)  # 100 bytes free: less than the package
    with pytest.raises(Exception, match="bytes free"):
        replicate(node, video_id, [sources(files).url], pulls)
    assert video_id not in node.published() and nothing_left(node)


def test_tasks_from_an_announce_are_carried_out(node, package, sources, tracker, pulls):
    from edge.announcer import announce

    video_id, files = package
    replicator = Replicator(node, pulls)
    replicator.start()
    try:
        tracker.tasks = [{"action": "replicate", "video_id": video_id, "sources": [sources(files).url]},
                         {"action": "replicate", "video_id": "not-an-id", "sources": []}]
        announce(node, node.tracker_pin, on_tasks=replicator.submit)
        for _ in range(200):  # bounded: 10 s at most
            if video_id in node.published():
                break
            threading.Event().wait(0.05)
    finally:
        replicator.stop()
    assert video_id in node.published()
    assert video_id in tracker.announces[-1]["videos"]  # announced as soon as published


# Sources are servers someone else named (README.md, trust model): guarded, capped, held to a size.


def test_a_loopback_source_is_refused_without_EDGE_ALLOW_PRIVATE(node, package, sources):
    video_id, files = package
    source = sources(files)
    with pytest.raises(ReplicationError):
        replicate(node, video_id, [source.url, f"http://localhost:{source.url.rsplit(':', 1)[1]}"], pull_client())
    assert source.hits == [] and video_id not in node.published() and nothing_left(node)


def test_a_redirect_is_not_followed(node, package, sources, pulls):
    video_id, files = package
    good = sources(files)
    redirecting = sources({name: (lambda name=name: redirect(f"{good.url}/videos/{video_id}/{name}"))
                           for name in files})
    with pytest.raises(ReplicationError):
        replicate(node, video_id, [redirecting.url], pulls)
    assert redirecting.hits and good.hits == [] and nothing_left(node)


def test_a_file_longer_than_listed_is_cut_at_its_listed_size(node, package, sources, pulls):
    video_id, files = package
    sent = []

    def endless():
        def chunks():
            yield files[SEGMENT]
            for _ in range(1024):  # bounded: 64 MB at most, were nothing cut
                sent.append(1)
                yield b"x" * 65536
        return Response(chunks(), mimetype="video/iso.segment")

    flood = sources({**files, SEGMENT: endless})
    with pytest.raises(ReplicationError, match=SEGMENT):
        replicate(node, video_id, [flood.url], pulls)
    assert len(sent) < 256 and nothing_left(node)  # stopped long before 16 MB


def test_each_file_has_a_deadline_scaled_to_its_size():
    assert deadline_for(0) == BASE_DEADLINE
    assert BASE_DEADLINE < deadline_for(10**6) < deadline_for(10**8) <= MAX_DEADLINE == deadline_for(10**12)


@pytest.mark.parametrize("extra", [0, 1000])
def test_a_task_size_is_held_and_a_package_within_it_is_pulled(node, package, sources, pulls, extra):
    video_id, files = package
    size = sum(map(len, files.values()))  # the manifest's bytes and every file it lists
    assert replicate(node, video_id, [sources(files).url], pulls, size=size + extra)
    assert video_id in node.published() and nothing_left(node)


def test_a_manifest_larger_than_the_task_size_is_refused_and_nothing_kept(node, package, sources, pulls):
    video_id, files = package
    source = sources(files)
    with pytest.raises(ReplicationError, match="more than the"):
        replicate(node, video_id, [source.url], pulls, size=sum(map(len, files.values())) - 1)
    assert source.hits == ["manifest.json"]  # no file fetched
    assert video_id not in node.published() and nothing_left(node)


def test_a_task_size_beyond_the_free_space_is_refused_before_any_fetch(node, package, sources, pulls):
    video_id, files = package
    source = sources(files)
    with pytest.raises(ApiError, match="bytes free"):
        replicate(node, video_id, [source.url], pulls, size=10**7 + 1)
    assert source.hits == [] and nothing_left(node)


def test_a_manifest_with_a_negative_size_is_refused(node, sources, pulls):
    manifest = canonical_json({"version": 1, "files": {"a.m4s": {"sha256": "0" * 64, "size": -10**9}}})
    video_id = content_id(manifest)  # a liar can make a manifest that hashes to its own id
    with pytest.raises(ReplicationError):
        replicate(node, video_id, [sources({"manifest.json": manifest}).url], pulls)
    assert nothing_left(node)


@pytest.mark.parametrize("size", [-1, 0, True, "100", 1.5])
def test_a_replicate_task_with_a_malformed_size_is_ignored(node, pulls, size):
    replicator = Replicator(node, pulls)
    replicator.submit([{"action": "replicate", "video_id": "ab" * 20, "sources": ["http://edge.test"], "size": size}])
    assert replicator.tasks.empty()


AUTH = {"Authorization": "Bearer s3cret"}


@pytest.mark.parametrize("token, headers, status, code", [
    (None, AUTH, 403, "operator_api_off"),
    ("s3cret", {}, 401, "unauthorized"),
    ("s3cret", {"Authorization": "Basic s3cret"}, 401, "unauthorized"),
    ("s3cret", {"Authorization": "Bearer nope"}, 403, "forbidden"),
])
def test_hand_over_needs_the_operator_token(app, client, node, tracker, token, headers, status, code):
    video_id = published_video(node)
    app.config["EDGE_ADMIN_TOKEN"] = token
    answer = client.delete(f"/api/v1/videos/{video_id}", headers=headers)
    assert (answer.status_code, answer.json["error"]) == (status, code)
    assert tracker.drops == [] and video_id in node.published()


def test_hand_over_asks_the_tracker_and_deletes_only_when_told(app, client, node, tracker):
    video_id, other = published_video(node), "ab" * 20
    app.config["EDGE_ADMIN_TOKEN"] = "s3cret"
    assert client.delete(f"/api/v1/videos/{other}", headers=AUTH).status_code == 404
    answer = client.delete(f"/api/v1/videos/{video_id}", headers=AUTH)
    assert answer.status_code == 202 and answer.json["state"] == "handing_over"
    (drop,) = tracker.drops
    assert drop["video_id"] == video_id and drop["node"] == node.id
    assert video_id in node.published()  # still here until the tracker says so
    assert delete_copy(node, video_id, node.tracker_pin.url) and video_id not in node.published()


def test_the_background_hands_the_tasks_it_is_sent_to_its_replicator(app, client, node, tracker):
    from edge.background import start

    video_id = published_video(node)
    app.config["EDGE_ADMIN_TOKEN"] = "s3cret"
    assert client.delete(f"/api/v1/videos/{video_id}", headers=AUTH).status_code == 202
    tracker.tasks = [{"action": "delete", "video_id": video_id}]  # in the answer to the next announce
    background = start(app)
    try:
        for _ in range(200):  # bounded: 10 s at most
            if video_id not in node.published():
                break
            threading.Event().wait(0.05)
    finally:
        background.stop()
    assert video_id not in node.published()


def test_a_delete_for_a_video_not_dropped_is_ignored(node):
    video_id = published_video(node)
    assert not delete_copy(node, video_id)
    assert video_id in node.published()


def test_cli_drop_and_verify(node, tracker, monkeypatch, capsys):
    from edge.__main__ import main

    monkeypatch.setenv("SLIPSTREAM_DATA_DIR", node.data_dir)
    monkeypatch.setenv("EDGE_TRACKER_URL", tracker.url)
    sound = published_video(node)
    assert main(["verify"]) == 0
    assert main(["drop", sound]) == 0 and tracker.drops[-1]["video_id"] == sound
    with open(os.path.join(node.video_path(sound), SEGMENT), "r+b") as f:
        f.write(b"Z")  # bit rot
    capsys.readouterr()
    assert main(["verify"]) == 1
    assert f"{sound}: quarantined" in capsys.readouterr().out
    assert sound not in node.published() and os.listdir(node.path("quarantine"))
    assert main(["drop", sound]) == 1  # gone from videos/: nothing to hand over
