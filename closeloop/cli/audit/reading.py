"""`closeloop audit log` and `closeloop audit timeline`: reading the audit log.

The table fits the terminal (`COLUMNS`): complaint ids are never cut, the reason column
always shows why a step happened (the entry's reason, or the reason fields inside its data
where the workflow recorded them there), and data and hash columns appear only when there
is room for them beside it.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import click
from rich.table import Table

from audit.export import CSV_COLUMNS, csv_row
from audit.store import EntryFilter, entry_document
from closeloop.cli.audit.common import console, describe, filter_options, make_filter, open_log


@click.command("log")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one entry per line, as hashed.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row, for spreadsheets.")
def log_command(as_json: bool, as_csv: bool, **filters: Any) -> None:
    """Print audit entries in chain order: a table, JSON lines or CSV.

    \b
    Examples:
      closeloop audit log --complaint CMP-1042
      closeloop audit log --since 2026-01-01 --until 2026-03-31 --type capa.opened
      closeloop audit log --actor alice@example.com --json > alice.jsonl
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    where = make_filter(**filters)
    rows = open_log().iter_rows(where)
    if as_json:
        for row in rows:
            click.echo(json.dumps(entry_document(row), ensure_ascii=False, separators=(",", ":")))
        return
    if as_csv:
        write_csv((entry_document(row) for row in rows), sys.stdout)
        return
    documents = [entry_document(row) for row in rows]
    if not documents:
        click.echo("no audit entries" + describe(where))
        return
    out = console()
    out.print(entries_table(documents, out.width))
    out.print(f"{len(documents)} entries{describe(where)}", style="dim")


def write_csv(documents: Iterable[dict[str, Any]], stream: Any) -> None:
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    for document in documents:
        writer.writerow(csv_row(document))


# Data keys where workflows keep the why of a step when the entry's reason is empty.
_REASON_KEYS = ("reason", "comment")
_REASON_SUFFIXES = ("_reason", "_justification", "_rationale")
_GAP = 2  # spaces between two columns (padding 1 on either side, no borders)


def entry_reason(document: dict[str, Any]) -> str:
    """Why this step happened: the entry's reason, else the reason fields of its data."""
    if document["reason"]:
        return str(document["reason"])
    data = document["data"]
    if not isinstance(data, dict):
        return ""
    found = [
        _scalar(value)
        for name, value in data.items()
        if value not in (None, "") and (name in _REASON_KEYS or name.endswith(_REASON_SUFFIXES))
    ]
    return "; ".join(found)


def entries_table(documents: list[dict[str, Any]], width: int) -> Table:
    """Fit the columns to `width` by deciding each one's width, not by squeezing.

    seq, time and complaint id never wrap and are never cut; type and actor wrap when
    narrow; the reason takes what is left (at least a third of the line). Data and the
    hash are shown only when the reason keeps its room beside them.
    """
    seq_width = max(3, *(len(str(d["seq"])) for d in documents))
    complaint_width = max(9, *(len(str(d["complaint_id"])) for d in documents))
    type_natural = min(28, max(4, *(len(str(d["entry_type"])) for d in documents)))
    actor_natural = min(24, max(5, *(len(str(d["actor"])) for d in documents)))
    time_width = 19 if width >= 100 else 11  # "2026-03-02 08:30:00" or "03-02 08:30"
    show_data = width >= 160
    show_hash = width >= 190
    columns = 6 + show_data + show_hash
    hash_width = 12 if show_hash else 0
    # What is left once the columns that never wrap have their full width.
    avail = width - _GAP * (columns - 1) - seq_width - time_width - complaint_width - hash_width
    share = max(10, avail * 2 // 5)  # the reason's least share of it
    type_width = min(type_natural, max(6, (avail - share) // 2))
    actor_width = min(actor_natural, max(6, avail - share - type_width))
    rest = max(10, avail - type_width - actor_width)
    reason_width = rest // 2 if show_data else rest
    data_width = rest - reason_width - _GAP if show_data else 0
    table = Table(
        box=None, header_style="bold underline", padding=(0, 1), pad_edge=False, expand=False
    )
    table.add_column("seq", justify="right", no_wrap=True, width=seq_width)
    table.add_column(
        "recorded (UTC)" if time_width == 19 else "recorded", no_wrap=True, width=time_width
    )
    table.add_column("complaint", no_wrap=True, width=complaint_width)
    table.add_column("type", overflow="fold", width=type_width)
    table.add_column("actor", overflow="fold", width=actor_width)
    table.add_column("reason", overflow="fold", width=reason_width)
    if show_data:
        table.add_column("data", overflow="fold", width=data_width)
    if show_hash:
        table.add_column("hash", no_wrap=True, width=12)
    for document in documents:
        recorded = _short_time(document["recorded_at"])
        cells = [
            str(document["seq"]),
            recorded if time_width == 19 else recorded[5:16],
            str(document["complaint_id"]),
            str(document["entry_type"]),
            str(document["actor"]),
            entry_reason(document),
        ]
        if show_data:
            cells.append(_data_summary(document["data"]))
        if show_hash:
            cells.append(str(document["entry_hash"])[:12])
        table.add_row(*cells)
    return table


def _short_time(text: str) -> str:
    return text[:19].replace("T", " ")  # 2026-11-26T03:40:00.000000Z -> 2026-11-26 03:40:00


def _data_summary(data: Any) -> str:
    if isinstance(data, dict):
        return ", ".join(f"{k}={_scalar(v)}" for k, v in data.items())
    return str(data)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@click.command("timeline")
@click.argument("complaint_id")
def timeline_command(complaint_id: str) -> None:
    """A complaint's history, readable: what happened, when, by whom and why.

    Shows each entry in chain order with the time it occurred, the time since the previous
    step, the actor, the reason and the data. For machines use
    `closeloop audit log --complaint ID --json`.
    """
    documents = [
        entry_document(r) for r in open_log().iter_rows(EntryFilter(complaint_id=complaint_id))
    ]
    if not documents:
        raise click.ClickException(f"no audit entries for complaint {complaint_id}")
    out = console()
    first, last = documents[0]["occurred_at"], documents[-1]["occurred_at"]
    out.print(
        f"[bold]Complaint {complaint_id}[/bold]: {len(documents)} audit entries, "
        f"{_short_time(first)} to {_short_time(last)} UTC ({_duration(first, last)})",
        highlight=False,
    )
    previous: str | None = None
    for document in documents:
        occurred = document["occurred_at"]
        step = f" (+{_duration(previous, occurred)})" if previous else ""
        out.print()
        out.print(
            f"[bold]{_short_time(occurred)}[/bold]{step}  [cyan]{document['entry_type']}[/cyan]"
            f"  by {document['actor']}  [dim]#{document['seq']}[/dim]",
            highlight=False,
        )
        if document["reason"]:
            out.print(f"    {document['reason']}", highlight=False, markup=False)
        data = document["data"]
        for name, value in data.items() if isinstance(data, dict) else [("data", data)]:
            text = _scalar(value)
            if len(text) > 200:
                text = text[:199] + "…"
            out.print(f"    {name}: {text}", style="dim", highlight=False, markup=False)
        previous = occurred


def _duration(start: str, end: str) -> str:
    seconds = int((_parse(end) - _parse(start)).total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes} min"
    if minutes:
        return f"{sign}{minutes} min {secs} s"
    return f"{sign}{secs} s"


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


COMMANDS = (log_command, timeline_command)
