"""Computing the figures for a command: from the live audit log or an export bundle.

Shared by `kpi show`/`explain` and the report pack, so neither command module imports the
other; bad input and an unreachable database become one clear line, never a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from closeloop.cli.kpi.errors import Unreachable, UsageProblem


@contextlib.contextmanager
def problems() -> Iterator[None]:
    """Bad input and unreachable databases as one clear line, never a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from kpi.periods import KpiInputError

    try:
        yield
    except KpiInputError as exc:
        raise UsageProblem(str(exc)) from None
    except SQLAlchemyError as exc:
        raise Unreachable(f"cannot read the audit log: {exc.__class__.__name__}: {exc}") from None


def compute(bundle: Path | None, retention_days: int, **options: Any) -> Any:
    from kpi import service

    with problems():
        if bundle is not None:
            ledger, checkpoint = service.from_bundle(bundle)
        else:
            from base.settings import load_settings
            from closeloop.cli.audit.common import open_log

            settings = load_settings()
            try:
                log = open_log(settings)
            except click.ClickException as exc:  # no log there: nothing to read (status 2)
                raise UsageProblem(exc.message) from None
            try:
                ledger, checkpoint = service.from_log(
                    log, settings.home_dir, label=settings.resolved_database_url
                )
            finally:
                log.dispose()
        return service.show(ledger, checkpoint, retention_days=retention_days, **options)
