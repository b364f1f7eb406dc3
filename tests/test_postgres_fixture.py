import psycopg2


def test_postgres_fixture_gives_an_empty_writable_database(postgres_url):
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("create table t (x int)")
        cur.execute("insert into t values (41), (1)")
        cur.execute("select sum(x) from t")
        assert cur.fetchone()[0] == 42
    conn.close()
