"""/api/v1/openapi.json describes the whole tracker API, and real answers match it."""
import re

import pytest

from protocol.signing import sign
from tests.channels import ChannelKey
from tests.edges import Edge
from tests.openapi_check import errors, response_schema
from tests.tracker.actions import make_app, place, publish


@pytest.fixture
def client(tmp_path):
    return make_app(tmp_path).test_client()


def checked(client, spec, method, template, url, **kwargs):
    """Make a real request and check its answer against the document; returns the answer."""
    answer = getattr(client, method)(url, **kwargs)
    schema = response_schema(spec, template, method, answer.status_code)
    if schema is not None:
        assert answer.is_json, f"{method.upper()} {url}: {answer.status_code} is not JSON"
        problems = errors(answer.json, schema, spec)
        assert not problems, f"{method.upper()} {url} → {answer.status_code}: {problems}"
    return answer


def test_real_answers_match_the_document(client):
    spec = client.get("/api/v1/openapi.json").json
    edge = Edge()
    assert checked(client, spec, "post", "/api/v1/nodes/announce", "/api/v1/nodes/announce",
                   json=edge.announce_doc()).status_code == 200
    assert checked(client, spec, "post", "/api/v1/uploads", "/api/v1/uploads",
                   json={"title": "t", "size": 5}).status_code == 200
    video_id = publish(client, edge, "Documented", creator="ann")
    upload = place(client).json["upload"]
    assert checked(client, spec, "post", "/api/v1/videos", "/api/v1/videos",
                   json=edge.registration_doc(upload, edge.make_package())).status_code == 201
    gets = [("/api/v1/videos", "/api/v1/videos?q=documented"), ("/api/v1/videos", "/api/v1/videos?page=0"),
            ("/api/v1/videos/{video_id}", f"/api/v1/videos/{video_id}"),
            ("/api/v1/videos/{video_id}", "/api/v1/videos/" + "0" * 40),
            ("/api/v1/videos/{video_id}/sources", f"/api/v1/videos/{video_id}/sources"),
            ("/api/v1/videos/{video_id}/sources", "/api/v1/videos/" + "0" * 40 + "/sources"),
            ("/api/v1/trackers", "/api/v1/trackers"), ("/healthz", "/healthz"),
            ("/api/v1/catalog/changes", "/api/v1/catalog/changes?limit=5"),
            ("/api/v1/catalog/changes", "/api/v1/catalog/changes?since=99"),
            ("/api/v1/openapi.json", "/api/v1/openapi.json")]
    for template, url in gets:
        checked(client, spec, "get", template, url)
    assert checked(client, spec, "post", "/api/v1/uploads", "/api/v1/uploads", json={}).status_code == 400


def test_ledger_reports_and_drops_answer_as_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    edge = Edge()
    edge.announce(client)
    video_id = publish(client, edge, "Documented", creator="ann")
    gift = {"video_id": video_id, "amount": 1000, "currency": "EUR", "served": {edge.id: 10},
            "found_by": "https://tracker.example"}
    assert checked(client, spec, "post", "/api/v1/donations", "/api/v1/donations", json=gift,
                   headers={"Idempotency-Key": "k"}).status_code == 201
    assert checked(client, spec, "get", "/api/v1/donations/split", "/api/v1/donations/split",
                   query_string={**gift, "served": f"{edge.id}:10"}).status_code == 200
    for account in ("creator:ann", f"node:{edge.id}", "donor:external", "creator:nobody"):
        checked(client, spec, "get", "/api/v1/accounts/{account}", f"/api/v1/accounts/{account}")
    assert checked(client, spec, "post", "/api/v1/videos/{video_id}/reports", f"/api/v1/videos/{video_id}/reports",
                   json={"node": edge.id, "reason": "timeout"}).status_code == 202
    drop = sign({"node": edge.id, "timestamp": edge.stamp(), "video_id": video_id}, edge.key)
    assert checked(client, spec, "post", "/api/v1/nodes/drop", "/api/v1/nodes/drop", json=drop).status_code == 202
    checked(client, spec, "get", "/metrics", "/metrics")


def test_every_route_is_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    app = client.application
    routes = {(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith(("/api/", "/healthz", "/metrics"))
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    routes |= {("/announce", "get"), ("/scrape", "get")}  # served in front of Flask (bittorrent/frontend.py)
    assert routes - documented == set()


def test_the_field_schemas_say_what_the_readers_accept():
    import sys

    from tracker import fields
    from tracker.errors import ApiError

    assert fields.SPACES == "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    schema = fields.text_schema(1, 5)
    for value in ["a", " a ", "a" * 5, "\u3000x\x1c", "", " ", "\x1f\x85\u2028", "a" * 6, " abcde"]:
        try:
            fields.text({"v": value}, "v", 1, 5)
            accepted = True
        except ApiError:
            accepted = False
        documented = len(value) <= schema["maxLength"] and re.search(schema["pattern"], value) is not None
        assert accepted == documented, repr(value)
    for value in [5, 5.0, -1, 1.5, True, None, "5", 2 ** 53 + 1]:
        try:
            accepted = fields.integer({"v": value}, "v") == value
        except ApiError:
            accepted = False
        assert accepted == (type(value) in (int, float) and float(value).is_integer() and 0 <= value <= 2 ** 53)


def test_channel_routes_answer_as_documented(tmp_path):
    client = make_app(tmp_path, TRACKER_ADMIN_TOKEN="secret").test_client()
    spec = client.get("/api/v1/openapi.json").json
    edge, channel, admin = Edge(), ChannelKey(), {"Authorization": "Bearer secret"}
    edge.announce(client)
    placement = checked(client, spec, "post", "/api/v1/uploads", "/api/v1/uploads", json=channel.placement())
    video_id = edge.register(client, placement.json["upload"]).json["video_id"]
    assert checked(client, spec, "post", "/api/v1/channels", "/api/v1/channels",
                   json=channel.update(name="Documented")).status_code == 201
    assert checked(client, spec, "post", "/api/v1/channels", "/api/v1/channels",
                   json=channel.update(name="Again")).status_code == 200
    checked(client, spec, "get", "/api/v1/channels/{channel_id}", f"/api/v1/channels/{channel.id}")
    checked(client, spec, "get", "/api/v1/channels/{channel_id}", f"/api/v1/channels/{ChannelKey().id}")
    one = "/api/v1/videos/{video_id}"
    assert checked(client, spec, "patch", one, f"/api/v1/videos/{video_id}",
                   json=channel.edit(video_id, visibility="unlisted")).status_code == 200
    assert checked(client, spec, "patch", one, f"/api/v1/videos/{video_id}",
                   json=ChannelKey().edit(video_id, title="x")).status_code == 403
    assert checked(client, spec, "delete", one, f"/api/v1/videos/{video_id}",
                   json=channel.delete(video_id)).status_code == 200
    for template, url in ((one, f"/api/v1/videos/{video_id}"), (one + "/sources", f"/api/v1/videos/{video_id}/sources")):
        assert checked(client, spec, "get", template, url).status_code == 410
    assert checked(client, spec, "post", "/api/v1/nodes/announce", "/api/v1/nodes/announce",
                   json=edge.announce_doc(videos=[video_id])).json["tasks"]
    taken = checked(client, spec, "post", "/api/v1/admin/takedowns", "/api/v1/admin/takedowns", headers=admin,
                    json={"video_id": edge.make_package(), "reason": "abuse"})
    assert taken.status_code == 201
    for action in ("block", "unblock"):
        path = f"/api/v1/admin/channels/{{channel_id}}/{action}"
        assert checked(client, spec, "post", path, path.replace("{channel_id}", channel.id),
                       headers=admin).status_code == 200
        assert checked(client, spec, "post", path, path.replace("{channel_id}", channel.id)).status_code == 401
