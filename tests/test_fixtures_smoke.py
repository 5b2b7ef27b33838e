"""The fixtures themselves: a fresh PostgreSQL database is empty and usable."""

import psycopg


def test_postgres_database_is_fresh_and_writable(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        connection.execute("CREATE TABLE t (x int)")
        connection.execute("INSERT INTO t VALUES (1)")
        assert connection.execute("SELECT x FROM t").fetchone() == (1,)
