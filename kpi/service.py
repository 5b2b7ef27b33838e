"""The computations behind `closeloop kpi …`: from a log or an export bundle to rows."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from audit.checkpoints import SignedCheckpoint
from audit.store import AuditLog
from kpi import incremental, views
from kpi import ledger as ledgers
from kpi import store as stores
from kpi.compute import Group, Row, groups, per_million, rows
from kpi.figures import BY_NAME, FIGURES, SHIPMENT_FIGURE
from kpi.ledger import AsOf, Ledger, paused_gc
from kpi.observe import DEFAULT_RETENTION_DAYS
from kpi.partials import StalePartial
from kpi.periods import KpiInputError, check_dimensions, whole_range
from kpi.source import refresh


@dataclass
class Result:
    as_of: AsOf
    rows: list[Row]
    groups: list[Group]
    ledger: Ledger


def from_log(log: AuditLog, home: Path, *, label: str) -> tuple[Ledger, SignedCheckpoint | None]:
    """Fold what is new since the kept state, keep it, and return it with the checkpoint.

    A kept state that cannot be used (unreadable, of another format, not matching its
    aggregates) is discarded and the whole log folded again: slower, never wrong.
    """
    checkpoint = log.latest_checkpoint()
    path = ledgers.cache_path(home, label)
    for _attempt in range(3):
        try:
            return _refreshed(log, path), checkpoint
        except stores.KeptStateMoved:
            continue  # another `kpi` run saved first: start from what it kept
    return _refreshed(log, path, refold=True), checkpoint


def _refreshed(log: AuditLog, path: Path, *, refold: bool = False) -> Ledger:
    ledger = ledgers.Ledger()
    try:
        if not refold:
            ledger = refresh(log, ledgers.load(path))
            if ledger.folded_now and ledger.checkout is not None:
                incremental.commit(ledger)
                return ledger
    except stores.KeptStateMoved:
        if ledger.store is not None:
            ledger.store.close()
        raise
    except (sqlite3.Error, StalePartial, ValueError, TypeError, EOFError) as exc:
        if isinstance(exc, sqlite3.Error) and stores.intact(path):
            raise  # not the kept store's fault (the audit log, say): keep it
        refold = True
    if refold:
        if ledger.store is not None:
            ledger.store.close()
        stores.discard(path)
        ledger = refresh(log, ledgers.Ledger())
    if ledger.folded_now:
        ledgers.save(path, ledger)
    return ledger


def from_bundle(bundle: Path) -> tuple[Ledger, SignedCheckpoint | None]:
    """Recompute from an export bundle (`closeloop audit export`): entries.jsonl alone."""
    entries = bundle / "entries.jsonl"
    if not entries.is_file():
        raise KpiInputError(f"--bundle {bundle}: no entries.jsonl (not an export bundle)")
    ledger = Ledger()
    try:
        ledger.extend(ledgers.bundle_rows(entries))
    except (KeyError, ValueError, TypeError) as exc:
        raise KpiInputError(f"--bundle {bundle}: entries.jsonl is not usable: {exc}") from None
    checkpoint = None
    manifest = bundle / "manifest.json"
    if manifest.is_file():
        latest = json.loads(manifest.read_text(encoding="utf-8")).get("latest_checkpoint")
        checkpoint = SignedCheckpoint.from_json(latest) if latest else None
    return ledger, checkpoint


def show(
    ledger: Ledger,
    checkpoint: SignedCheckpoint | None,
    *,
    start: date | None = None,
    end: date | None = None,
    by: list[str] | None = None,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    evidence: bool = False,
) -> Result:
    """The figures per group; with `evidence`, also the observations `explain` needs."""
    dimensions = check_dimensions(by or [])
    whole = whole_range(start, end, until=ledger.facts.last_time + 1.0)
    view = views.View(tuple(dimensions), start, end, retention_days)
    with paused_gc(), _damage_said(ledger):
        found = None if evidence else views.kept_groups(ledger, view, whole)
        if found is None:
            found = groups(
                ledger.all_facts(),
                whole,
                dimensions,
                retention_days=retention_days,
                evidence=evidence,
            )
            if not evidence:
                found = views.keep(ledger, view, found)
    if not found and not dimensions:
        found = [Group((), whole, evidence)]  # one row of absent figures, rather than nothing
    as_of = AsOf(ledger.size, ledger.root_hex(), checkpoint)
    return Result(as_of, rows(found, ledger.facts), found, ledger)


@contextlib.contextmanager
def _damage_said(ledger: Ledger) -> Iterator[None]:
    """A kept store found damaged only now (`from_log` refolds when it sees it first)."""
    try:
        yield
    except sqlite3.Error as exc:
        if ledger.store is None:
            raise
        path = ledger.store.path
        ledger.store.close()
        stores.discard(path)
        raise KpiInputError(
            f"the kept KPI state {path} is damaged ({exc}); it was removed: run the command "
            "again to recompute from the audit log"
        ) from None


def explain(result: Result, name: str, group: dict[str, str]) -> list[dict[str, Any]]:
    """Numerator, denominator and the seqs behind them, for each matching group."""
    figure = BY_NAME.get(name)
    if result.groups and not result.groups[0].evidence:
        raise ValueError("explain needs a result computed with evidence=True")
    if figure is None:
        raise KpiInputError(f"{name!r} is not a figure; choose from {', '.join(BY_NAME)}")
    out = []
    for g, row in zip(result.groups, result.rows, strict=True):
        if any(row.group.get(k) != v for k, v in group.items()):
            continue
        if name == SHIPMENT_FIGURE:
            _value, counted, units = per_million(g, result.ledger.facts)
            numerator = sorted(o[2][0] for o in counted)
            shipments = sorted(
                s.seq
                for s in result.ledger.facts.shipments.values()
                if s.product in {o[3] for o in counted} or not counted
            )
            entry = {
                "numerator": len(numerator),
                "denominator": units,
                "numerator_seqs": numerator,
                "denominator_seqs": shipments,
            }
        else:
            observations = g.series.get(figure.series, [])
            chosen = [o for o in observations if figure.counts is None or figure.counts(o[1])]
            entry = {
                "numerator": len(chosen) if figure.counts else None,
                "denominator": len(observations),
                "values": [o[1] for o in observations] if figure.counts is None else None,
                "numerator_seqs": sorted(s for o in chosen for s in o[2]),
                "denominator_seqs": sorted(s for o in observations for s in o[2]),
            }
        out.append(
            {
                "group": row.group,
                "figure": name,
                "value": row.figures[name],
                "formula": figure.formula,
                "time_basis": figure.basis,
                "left_out": figure.left_out,
                **entry,
            }
        )
    return out


FIGURE_NAMES = [f.name for f in FIGURES]
