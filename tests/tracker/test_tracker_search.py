"""Full-text search of the catalog (FTS5 on SQLite, tsvector on PostgreSQL), on both databases."""
from tests.edges import Edge
from tests.tracker.actions import found, make_app, publish
from tracker.catalog import search
from tracker.catalog.models import Video
from tracker.catalog.search import TOTAL_CAP
from tracker.db import chunks, database


def test_words_match_as_prefixes_in_any_field(client):
    edge = Edge()
    edge.announce(client)
    piano = publish(client, edge, "Cat on a Piano", description="Chopin, nocturne", creator="Tom")
    publish(client, edge, "Dog in the park", creator="ann")
    assert found(client, "pia") == [piano]
    assert found(client, "noct tom") == [piano]  # description and creator together
    assert found(client, "CHOPIN") == [piano]
    assert found(client, "nocturne ann") == []
    assert found(client, "-- ! ,") == []


def test_search_results_page_by_twenty_newest_first(client):
    edge = Edge()
    edge.announce(client)
    made = [publish(client, edge, f"lesson {n}") for n in range(23)]
    publish(client, edge, "something else")
    first = client.get("/api/v1/videos?q=lesson").json
    second = client.get("/api/v1/videos?q=lesson&page=2").json
    assert (first["total"], len(first["videos"]), second["total"], len(second["videos"])) == (23, 20, 23, 3)
    assert [v["id"] for v in first["videos"] + second["videos"]] == made[::-1]


def test_a_search_matching_more_than_the_cap_says_the_cap_and_is_paged_as_the_index_holds_them(app, client):
    """At a million videos counting and sorting every match took seconds (README, "At network scale")."""
    many = TOTAL_CAP + 5
    rows = [{"id": f"{n:040x}", "title": f"Common word {n}", "creator": "bench", "duration": 60.0, "renditions": [],
             "size": 1000, "created": 1.7e9 - n} for n in range(1, many + 1)]  # the last learnt is the oldest
    with app.app_context(), database.connection_context(), database.atomic():
        for chunk in chunks(rows, 100):
            Video.insert_many(chunk).execute()
    with app.app_context():
        postgres = search.is_postgres()
    browsed = client.get("/api/v1/videos").json
    assert browsed["total"] == TOTAL_CAP and browsed["videos"][0]["id"] == f"{1:040x}"  # by date, newest first
    common = client.get("/api/v1/videos?q=common").json
    assert common["total"] == TOTAL_CAP
    if not postgres:  # the index's order: last learnt first
        assert [v["id"] for v in common["videos"]] == [f"{n:040x}" for n in range(many, many - 20, -1)]
    else:  # PostgreSQL's planner walks the date index: still newest first
        assert [v["id"] for v in common["videos"]] == [f"{n:040x}" for n in range(1, 21)]
    few = client.get("/api/v1/videos?q=common 1000").json  # 1000, 10000..10005: under the cap, by date
    assert few["total"] == 7 and [v["title"] for v in few["videos"]][:2] == ["Common word 1000", "Common word 10000"]


def test_a_search_index_made_before_its_prefix_indexes_is_made_again(tmp_path):
    app = make_app(tmp_path)
    with app.app_context(), database.connection_context():
        for statement in search.SQLITE_DROP:
            database.execute_sql(statement)
        for statement in search.SQLITE_SCHEMA:  # as an older tracker made it
            database.execute_sql(statement.replace(f", prefix='{search.PREFIXES}'", ""))
        Video.create(id="ab" * 20, title="Pianist at work", creator="c", duration=1.0, renditions=[], size=1,
                     created=1.7e9)
    app.extensions["tracker.db"].close_all()
    app = make_app(tmp_path)
    with app.app_context(), database.connection_context():
        made = database.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'video_fts'").fetchone()[0]
        assert f"prefix='{search.PREFIXES}'" in made
    assert found(app.test_client(), "pian") == ["ab" * 20]  # what the old index held is indexed again
