"""Complaint list, complaint page and the signed decision forms.

A decision is signed here: the password (and TOTP code when enabled) is asked again, the
signer is the session's user, and the Update carries the state hash the signer was shown,
so the workflow refuses it if the complaint changed in between.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from audit.store import EntryFilter
from base.complaints import DecisionRefusedError, send_decision
from console.complaints import (
    COMPLAINT_ID,
    BadFilter,
    ComplaintMissing,
    Filters,
    current_state,
    decode_page,
    list_page,
)
from console.forms import FORMS, FormErrors, build_input
from console.metrics import record_decision
from console.pages import page
from console.security import Deciding, Viewer, Viewing, context
from identity.roles import Permission
from identity.users import AuthenticationFailed
from schemas.complaint_state import ComplaintState, ComplaintStatus
from schemas.decisions import Actor, Decision, Severity
from workflows.lifecycle import RULES

router = APIRouter()


@router.get("/complaints")
async def complaint_list(request: Request, viewer: Viewing) -> Response:
    params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    values: dict[str, Any] = {
        "viewer": viewer, "params": params, "rows": [], "next_page": "", "error": "",
        "statuses": [s.value for s in ComplaintStatus], "severities": [s.value for s in Severity],
    }  # fmt: skip
    try:
        filters = Filters.parse(params)
        ctx = context(request)
        page_token = decode_page(params.get("page", ""), ctx.page_key)
        rows, next_page = await list_page(await ctx.temporal(), filters, page_token, ctx.page_key)
    except BadFilter as bad:
        return page(request, "complaints.html", 400, **{**values, "error": str(bad)})
    next_params = {**params, "page": next_page}
    return page(request, "complaints.html", **{**values, "rows": rows, "next_page": next_page,
                                               "next_params": next_params})  # fmt: skip


async def _state(request: Request, complaint_id: str) -> ComplaintState | Response:
    try:
        return await current_state(await context(request).temporal(), complaint_id)
    except ComplaintMissing:
        return page(request, "error.html", 404, message="no such complaint", viewer=None)


@router.get("/complaints/{complaint_id}")
async def complaint_page(request: Request, complaint_id: str, viewer: Viewing) -> Response:
    state = await _state(request, complaint_id)
    if isinstance(state, Response):
        return state
    log = context(request).identity.audit_log
    timeline = await run_in_threadpool(log.entries, EntryFilter(complaint_id=complaint_id))
    decidable = [d for d in state.allowed_decisions if d in FORMS]
    return page(
        request, "complaint.html", viewer=viewer, state=state, timeline=timeline,
        decidable=decidable if viewer.user.can(Permission.DECIDE) else [], forms=FORMS,
    )  # fmt: skip


def _decision(name: str) -> Decision | None:
    try:
        decision = Decision(name)
    except ValueError:
        return None
    return decision if decision in FORMS else None


@router.get("/complaints/{complaint_id}/decide/{decision}")
async def decision_form(
    request: Request,
    complaint_id: str,
    decision: str,
    viewer: Deciding,
) -> Response:
    chosen = _decision(decision)
    if chosen is None:
        return page(request, "error.html", 404, message="no such decision form", viewer=viewer)
    state = await _state(request, complaint_id)
    if isinstance(state, Response):
        return state
    return _form_page(request, viewer, state, chosen, {}, {}, str(uuid.uuid4()), state.state_hash)


def _form_page(
    request: Request,
    viewer: Viewer,
    state: ComplaintState,
    decision: Decision,
    values: dict[str, str],
    errors: dict[str, str],
    update_id: str,
    state_hash: str,
    status_code: int = 200,
) -> Response:
    form = FORMS[decision]
    return page(
        request, "decide.html", status_code, viewer=viewer, state=state, form=form,
        values=values, errors=errors, update_id=update_id, state_hash=state_hash,
        meaning=RULES[decision].meaning.value,
    )  # fmt: skip


@router.post("/complaints/{complaint_id}/decide/{decision}")
async def sign_decision(
    request: Request,
    complaint_id: str,
    decision: str,
    viewer: Deciding,
) -> Response:
    chosen = _decision(decision)
    if chosen is None or not COMPLAINT_ID.match(complaint_id):
        return page(request, "error.html", 404, message="no such decision form", viewer=viewer)
    ctx = context(request)
    submitted = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    update_id = submitted.get("update_id", "")
    try:
        update_id = str(uuid.UUID(update_id))
    except ValueError:
        update_id = str(uuid.uuid4())
    seen_hash = submitted.get("state_hash", "")[:128]
    values = {s.name: submitted.get(s.name, "") for s in FORMS[chosen].fields}
    values["comment"] = submitted.get("comment", "")
    state = await _state(request, complaint_id)
    if isinstance(state, Response):
        return state

    def again(errors: dict[str, str], status_code: int = 400) -> Response:
        return _form_page(
            request, viewer, state, chosen, values, errors, update_id, seen_hash, status_code
        )

    if not seen_hash:  # a signature must cover the state the signer was shown
        return again({"form": "the form was incomplete: reload the decision and sign again"})
    user = viewer.user
    try:
        request_model = build_input(
            FORMS[chosen], values, actor=Actor(id=user.username, name=user.full_name),
            expected_state_hash=seen_hash, comment=values["comment"][:4000],
        )  # fmt: skip
    except FormErrors as bad:
        return again(bad.errors)
    # The signature's two components: the session's user id and the password, now.
    try:
        await run_in_threadpool(
            ctx.identity.users.authenticate, user.username, submitted.get("password", "")[:1024],
            submitted.get("totp", "")[:16], purpose="signature",
        )  # fmt: skip
    except AuthenticationFailed as failed:
        return again({"password": str(failed) + "; nothing was signed"}, 401)
    try:
        await send_decision(
            await ctx.temporal(), complaint_id, chosen, request_model, update_id=update_id
        )
    except DecisionRefusedError as refused:
        labels = {s.name.removeprefix("action."): s.label for s in FORMS[chosen].fields}
        message = refused.refusal.render(
            field=lambda name: labels.get(name, name.replace("_", " ")),
            decision=lambda name: FORMS[Decision(name)].title if name in FORMS else name,
        )
        record_decision(chosen.value, "refused")
        return again({"form": f"refused: {message}"}, 409)
    record_decision(chosen.value, "accepted")
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)
