"""Full-text search of the catalog: SQLite FTS5 on SQLite, PostgreSQL full text on PostgreSQL.

Every word of a query must match the title, description or creator, as a prefix (so a website's
search box finds "piano" from "pia"). Words are runs of letters and digits; case and, on SQLite,
accents are folded. The 'simple' text search configuration on PostgreSQL does no stemming, like
FTS5's unicode61 tokenizer, so both databases answer alike whatever the language.
"""
import re

from peewee import SQL, PostgresqlDatabase

from ..db import database

WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 16

# An external-content FTS5 table (sqlite.org/fts5.html, section 4.4.3) kept in step by triggers.
SQLITE_SCHEMA = [
    "CREATE VIRTUAL TABLE video_fts USING fts5(title, description, creator, content='video', "
    "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
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
SQLITE_MATCH = ("(SELECT video.id FROM video_fts JOIN video ON video.rowid = video_fts.rowid "
                "WHERE video_fts MATCH ?)")
# The same expression in the index and in queries, or PostgreSQL will not use the index.
PG_DOCUMENT = "to_tsvector('simple', title || ' ' || description || ' ' || creator)"
PG_SCHEMA = [f"CREATE INDEX IF NOT EXISTS video_fts ON video USING GIN (({PG_DOCUMENT}))"]


def create_index():
    """Create the full-text index unless it exists (schema.py calls this once, under its lock)."""
    if is_postgres():
        statements = PG_SCHEMA
    elif database.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'video_fts'").fetchone():
        statements = []
    else:
        statements = SQLITE_SCHEMA
    with database.atomic():
        for statement in statements:
            database.execute_sql(statement)


def is_postgres():
    return isinstance(database.obj, PostgresqlDatabase)


def matches(model, q):
    """A where-clause for the videos matching every word of `q`, or None when `q` is blank."""
    if not q.strip():
        return None
    words = [w.lower() for w in WORD.findall(q)][:MAX_WORDS]
    if not words:
        return SQL("1 = 0")  # only punctuation: nothing can match
    if is_postgres():
        return SQL(f"{PG_DOCUMENT} @@ to_tsquery('simple', %s)", [" & ".join(f"{w}:*" for w in words)])
    # FTS5 query syntax: quoted strings with a trailing * are prefix queries, joined by implicit AND.
    return model.id.in_(SQL(SQLITE_MATCH, [" ".join(f'"{w}"*' for w in words)]))
