"""Several workers starting at once on an empty database all come up (scale-out, issue 13).

Each worker sets up the audit tables at start; on PostgreSQL two concurrent CREATE TABLEs of
the same name fail one of them, which used to crash all but one worker."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from audit.store import AuditLog


def test_concurrent_schema_setup_on_an_empty_postgresql_database_succeeds_everywhere(
    postgres_url: str,
) -> None:
    def open_log(_: int) -> int:
        log = AuditLog.from_url(postgres_url)
        try:
            return log.count()
        finally:
            log.dispose()

    with ThreadPoolExecutor(max_workers=6) as pool:
        counts = list(pool.map(open_log, range(6)))
    assert counts == [0] * 6
