"""Sign-in and sign-out. Sign-in replaces the session (new token, new CSRF token)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from console.metrics import record_sign_in
from console.pages import page
from console.security import (
    COOKIE,
    Viewing,
    check_csrf,
    context,
    session_of,
    set_session_cookie,
)
from identity.records import EntryType, record
from identity.users import AuthenticationFailed

router = APIRouter()


@router.get("/login")
async def login_form(request: Request) -> Response:
    session = session_of(request) or context(request).identity.sessions.create()
    response = page(
        request, "login.html", csrf_token=session.csrf_token, error="", viewer=None,
        oidc=context(request).oidc is not None,
    )  # fmt: skip
    set_session_cookie(request, response, session)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    ctx = context(request)
    session = session_of(request)
    if session is None:  # no form was ever served to this browser, or it expired
        fresh = ctx.identity.sessions.create()
        response = page(
            request, "login.html", 403, csrf_token=fresh.csrf_token, viewer=None,
            error="the sign-in form expired: sign in again",
        )  # fmt: skip
        set_session_cookie(request, response, fresh)
        return response
    form = await check_csrf(request, session)
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    code = str(form.get("totp", ""))[:16]
    if not username or not password:
        missing = "username" if not username else "password"
        return page(
            request, "login.html", 400, csrf_token=session.csrf_token, viewer=None,
            error=f"{missing}: required",
        )  # fmt: skip
    try:
        user = await run_in_threadpool(ctx.identity.users.authenticate, username, password, code)
    except AuthenticationFailed as failed:
        record_sign_in("refused", "password")
        return page(
            request, "login.html", 401, csrf_token=session.csrf_token, viewer=None,
            error=str(failed),
        )  # fmt: skip
    new_session = ctx.identity.sessions.sign_in(session.token, user.id)
    record_sign_in("succeeded", "password")
    response = RedirectResponse("/complaints", status_code=303)
    set_session_cookie(request, response, new_session)
    return response


@router.post("/logout")
async def logout(request: Request, viewer: Viewing) -> Response:
    ctx = context(request)
    ctx.identity.sessions.destroy(request.cookies.get(COOKIE))
    await run_in_threadpool(
        record, ctx.identity.audit_log, EntryType.LOGOUT, actor=viewer.user.username,
        when=datetime.now(UTC),
        reason="signed out", data={"username": viewer.user.username},
    )  # fmt: skip
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
async def home(viewer: Viewing) -> Response:
    return RedirectResponse("/complaints", status_code=303)
