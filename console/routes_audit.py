"""The audit log browser: filtered entries, one entry with its inclusion proof, verify."""

from __future__ import annotations

import io
import itertools
import json
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from audit import keys
from audit.export import export_bundle
from audit.proofs import ProofUnavailable, inclusion_proof
from audit.store import EntryFilter, entry_document
from audit.verify import verify_log
from console.pages import page
from console.security import Auditing, context

router = APIRouter()
PAGE_SIZE = 100
_TEXT_FIELDS = ("complaint_id", "entry_type", "actor", "text")


class BadAuditFilter(ValueError):
    pass


def _parse(params: dict[str, str]) -> tuple[EntryFilter, int]:
    values: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = params.get(name, "").strip()
        if len(value) > 256:
            raise BadAuditFilter(f"{name}: at most 256 characters")
        values[name] = value or None
    for name in ("since", "until"):
        value = params.get(name, "").strip()
        if value:
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                raise BadAuditFilter(f"{name}: a date or time as YYYY-MM-DD[THH:MM]") from None
            values[name] = when if when.tzinfo else when.replace(tzinfo=UTC)
    after = params.get("after", "0").strip() or "0"
    if not after.isdigit():
        raise BadAuditFilter("after: an entry number")
    return EntryFilter(**values), int(after)


@router.get("/audit")
async def audit_list(request: Request, viewer: Auditing) -> Response:
    params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    log = context(request).identity.audit_log
    try:
        where, after = _parse(params)
    except BadAuditFilter as bad:
        return page(
            request, "audit.html", 400, viewer=viewer, params=params, rows=[], error=str(bad),
            next_params=None,
        )  # fmt: skip

    def read() -> list[Any]:
        rows = log.iter_rows(where, batch_size=PAGE_SIZE + 1, after=after)
        return list(itertools.islice(rows, PAGE_SIZE + 1))

    rows = await run_in_threadpool(read)
    next_params = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_params = {**params, "after": str(rows[-1].seq)}
    return page(
        request, "audit.html", viewer=viewer, params=params, rows=rows, error="",
        next_params=next_params,
    )  # fmt: skip


@router.get("/audit/entries/{seq}")
async def audit_entry(request: Request, seq: int, viewer: Auditing) -> Response:
    log = context(request).identity.audit_log
    row = await run_in_threadpool(
        lambda: next(iter(log.iter_rows(after=seq - 1, batch_size=1)), None)
    )
    if row is None or row.seq != seq:
        return page(request, "error.html", 404, message=f"no audit entry {seq}", viewer=viewer)
    proof: dict[str, Any] | None = None
    proof_error = ""
    try:
        proof = (await run_in_threadpool(inclusion_proof, log, seq)).to_json()
    except ProofUnavailable as unavailable:
        proof_error = str(unavailable)
    document = json.dumps(entry_document(row), indent=2, ensure_ascii=False)
    return page(
        request, "audit_entry.html", viewer=viewer, row=row, document=document, proof=proof,
        proof_error=proof_error,
    )  # fmt: skip


@router.get("/audit/export")
async def audit_export(request: Request, viewer: Auditing) -> Response:
    """The entries the filters select as an export bundle (zip), with its own verify.py."""
    ctx = context(request)
    params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    try:
        where, _ = _parse(params)
    except BadAuditFilter as bad:
        return page(request, "error.html", 400, message=str(bad), viewer=viewer)
    try:
        private = keys.signing_key(
            ctx.settings.audit_signing_key, ctx.settings.home_dir, create=False
        )
    except keys.KeyConfigError as error:
        return page(request, "error.html", 500, message=str(error), viewer=viewer)
    if private is None:
        message = (
            "no signing key yet, so nothing signed to export: run `closeloop audit checkpoint`"
        )
        return page(request, "error.html", 409, message=message, viewer=viewer)

    def build() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "bundle"
            export_bundle(ctx.identity.audit_log, out, private.public_key(), where)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(out.rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(out).as_posix())
            return buffer.getvalue()

    body = await run_in_threadpool(build)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="closeloop-audit-{stamp}.zip"'},
    )


@router.get("/audit/verify")
async def audit_verify(request: Request, viewer: Auditing) -> Response:
    ctx = context(request)
    try:
        private = keys.signing_key(
            ctx.settings.audit_signing_key, ctx.settings.home_dir, create=False
        )
    except keys.KeyConfigError as error:
        return page(request, "error.html", 500, message=str(error), viewer=viewer)
    public = [private.public_key()] if private else []
    report = await run_in_threadpool(verify_log, ctx.identity.audit_log, public)
    return page(request, "verify.html", viewer=viewer, report=report)
