"""Full-text search of the catalog: SQLite FTS5 on SQLite, PostgreSQL full text on PostgreSQL.

Every word of a query must match the title, description or creator, as a prefix (so a website's
search box finds "piano" from "pia"). Words are runs of letters and digits; case and, on SQLite,
accents are folded. The 'simple' text search configuration on PostgreSQL does no stemming, like
FTS5's unicode61 tokenizer, so both databases answer alike whatever the language.

At a million videos (README.md, "At network scale"), a search is driven from the index: the
matching videos are read from it, never found by walking the catalog. Those that match are counted
up to TOTAL_CAP only; a word that matches more (a common word, a short prefix) is listed in the
order of the index (on SQLite, the order this tracker learnt of the videos, newest first) rather
than sorted by date, since sorting them all is what took seconds.
"""
import re

from peewee import PostgresqlDatabase

from ..db import database

WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 16

TOTAL_CAP = 10_000  # matching videos counted; a search matching more says this many
# Prefix indexes (sqlite.org/fts5.html, section 4.2) for the prefixes a search box sends: without
# them, a short prefix ("5", "pi") merges the lists of every word it begins, at every keystroke.
PREFIXES = "1 2 3 4 5 6 7 8"
# An external-content FTS5 table (sqlite.org/fts5.html, section 4.4.3) kept in step by triggers.
SQLITE_SCHEMA = [
    "CREATE VIRTUAL TABLE video_fts USING fts5(title, description, creator, content='video', "
    f"content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', prefix='{PREFIXES}')",
    "CREATE TRIGGER video_fts_insert AFTER INSERT ON video BEGIN INSERT INTO video_fts "
    "(rowid, title, description, creator) VALUES (new.rowid, new.title, new.description, new.creator); END",
    "CREATE TRIGGER video_fts_delete AFTER DELETE ON video BEGIN INSERT INTO video_fts "
    "(video_fts, rowid, title, description, creator) "
    "VALUES ('delete', old.rowid, old.title, old.description, old.creator); END",
    "CREATE TRIGGER video_fts_update AFTER UPDATE ON video BEGIN INSERT INTO video_fts "
    "(video_fts, rowid, title, description, creator) "
    "VALUES ('delete', old.rowid, old.title, old.description, old.creator); INSERT INTO video_fts "
    "(rowid, title, description, creator) VALUES (new.rowid, new.title, new.description, new.creator); END",
    # Index what a catalog created before this table already holds.
    "INSERT INTO video_fts (video_fts) VALUES ('rebuild')",
]


SQLITE_DROP = ["DROP TRIGGER video_fts_insert", "DROP TRIGGER video_fts_delete", "DROP TRIGGER video_fts_update",
               "DROP TABLE video_fts"]
# The same expression in the index and in queries, or PostgreSQL will not use the index.
PG_DOCUMENT = "to_tsvector('simple', title || ' ' || description || ' ' || creator)"
PG_SCHEMA = [f"CREATE INDEX IF NOT EXISTS video_fts ON video USING GIN (({PG_DOCUMENT}))"]


def create_index():
    """Create the full-text index unless it exists (schema.py calls this once, under its lock)."""
    if is_postgres():
        statements = PG_SCHEMA
    elif (made := database.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'video_fts'").fetchone()) is None:
        statements = SQLITE_SCHEMA
    elif f"prefix='{PREFIXES}'" not in made[0]:
        # Made before its prefix indexes: made again (5 s for a million titles, once).
        statements = [*SQLITE_DROP, *SQLITE_SCHEMA]
    else:
        statements = []
    with database.atomic():
        for statement in statements:
            database.execute_sql(statement)


def is_postgres():
    return isinstance(database.obj, PostgresqlDatabase)


class Matching:
    """The SQL that narrows the catalog to the videos matching every word of `q` (all of them when
    `q` is blank): `source` (the FROM), `condition` with its `params`, and `index_order`, the order
    of a search's pages when more than TOTAL_CAP match (None: by date). Plain strings, not peewee's
    query builder, which took over half a search's time at a million videos (README.md, "At network
    scale"), as it did a sources lookup's."""

    def __init__(self, q):
        self.source, self.condition, self.params, self.index_order = "video", "", [], None
        self.blank = not q.strip()
        words = [w.lower() for w in WORD.findall(q)][:MAX_WORDS]
        if self.blank:
            return
        if not words:
            self.condition = " AND 1 = 0"  # only punctuation: nothing can match
        elif is_postgres():
            self.condition = f" AND {PG_DOCUMENT} @@ to_tsquery('simple', %s)"
            self.params = [" & ".join(f"{w}:*" for w in words)]
        else:
            # A join, not `rowid IN (...)`: SQLite then reads the matches from the index, in its order.
            self.source = "video_fts JOIN video ON video.rowid = video_fts.rowid"
            self.condition = " AND video_fts MATCH ?"
            # FTS5 query syntax: quoted strings with a trailing * are prefix queries, joined by implicit AND.
            self.params = [" ".join(f'"{w}"*' for w in words)]
            self.index_order = "video_fts.rowid DESC"
