"""Full-text search of the catalog (FTS5 on SQLite, tsvector on PostgreSQL), on both databases."""
from tests.edges import Edge
from tests.tracker.actions import found, publish


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
