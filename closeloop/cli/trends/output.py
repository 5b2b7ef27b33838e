"""How `trends` commands print: lines for people, JSON for programs."""

from __future__ import annotations

import json
from typing import Any

import click

from audit.models import AuditEntry
from schemas.quality_signal import QualitySignal
from trends.run import RunReceipt


def _line(signal: QualitySignal) -> str:
    group = ",".join(f"{k}={v}" for k, v in signal.group.items()) or "all"
    return (
        f"{signal.signal_id}  {signal.period:<8}  {signal.rule:<28}  {signal.test:<14}  "
        f"{signal.direction.value:<4}  {group}  value {signal.value:g}"
    )


def write_run(
    receipt: RunReceipt, shown: list[tuple[AuditEntry, QualitySignal]], *, as_json: bool
) -> None:
    if as_json:
        click.echo(json.dumps({"run": receipt.model_dump(mode="json")}))
        for entry, signal in shown:
            click.echo(json.dumps({"seq": entry.seq, "signal": signal.to_json()}))
        return
    click.echo(
        f"run {receipt.run_id} (audit seq {receipt.run_seq}): window {receipt.window_start} "
        f"to {receipt.window_end}, plan {receipt.plan_hash[:12]} (seq {receipt.plan_seq})"
    )
    click.echo(
        f"{len(receipt.signals)} signal(s), {len(receipt.new_signals)} new; "
        f"{receipt.published} published"
    )
    for _entry, signal in shown:
        click.echo(_line(signal))
    for opened in receipt.improvements:
        how = "opened" if opened.improvement_id in receipt.improvements_opened else "exists"
        click.echo(
            f"improvement {opened.improvement_id} {how} for {opened.signal_id}, "
            f"owner {opened.owner}"
        )


def write_list(
    found: list[tuple[AuditEntry, QualitySignal]],
    sent: dict[str, AuditEntry],
    *,
    as_json: bool,
) -> None:
    for entry, signal in found:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "seq": entry.seq,
                        "published": signal.signal_id in sent,
                        "signal": signal.to_json(),
                    }
                )
            )
        else:
            click.echo(_line(signal))
    if not found and not as_json:
        click.echo("no signals")


def write_signal(
    entry: AuditEntry, signal: QualitySignal, sent: AuditEntry | None, *, as_json: bool
) -> None:
    published: dict[str, Any] | None = None
    if sent is not None:
        published = {k: sent.data.get(k) for k in ("topic", "partition", "offset")}
        published["seq"] = sent.seq
    if as_json:
        click.echo(
            json.dumps({"seq": entry.seq, "published": published, "signal": signal.to_json()})
        )
        return
    click.echo(signal.summary)
    click.echo(f"  audit seq       {entry.seq}")
    for name, value in signal.to_json().items():
        if name != "summary":
            click.echo(f"  {name:<16}{value}")
    where = "not yet" if published is None else json.dumps(published)
    click.echo(f"  published       {where}")
