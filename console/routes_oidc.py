"""Sign-in through the organisation's identity provider (OpenID Connect), when configured.

A successful sign-in ends exactly like a password sign-in: the browser's session is replaced
by a new one for the local user, and an `identity.login` entry (method `oidc`) is written.
Every refusal is audited as `identity.login_failed` and shown on the sign-in page.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from console.metrics import record_sign_in
from console.oidc import PENDING_LIFETIME_S, OidcClient, OidcFailed
from console.pages import page
from console.security import COOKIE, context, session_of, set_session_cookie
from identity.records import EntryType, record
from identity.users import User

router = APIRouter()


def _client(request: Request) -> OidcClient:
    client = context(request).oidc
    assert client is not None, "the OIDC routes are mounted only when OIDC is configured"
    return client


BINDING = "closeloop_oidc"
DONE = (
    '<!doctype html><meta http-equiv="refresh" content="0;url=/complaints">'
    '<p>Signed in. <a href="/complaints">Continue to the complaints</a></p>'
)  # a same-site step, so the new SameSite=Strict session cookie goes with the next request


@router.get("/login/oidc")
async def oidc_start(request: Request) -> Response:
    binding = secrets.token_urlsafe(32)
    redirect_uri = str(request.url_for("oidc_callback"))
    try:
        url = await _client(request).authorization_url(binding, redirect_uri)
    except OidcFailed as failed:
        return await _refused(request, str(failed), username="")
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        BINDING, binding, max_age=PENDING_LIFETIME_S, httponly=True, samesite="lax",
        secure=request.url.scheme == "https", path="/login/oidc",
    )  # fmt: skip
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    ctx = context(request)
    client = _client(request)
    params = request.query_params
    username = ""
    try:
        if params.get("error"):
            raise OidcFailed(f"the identity provider refused: {params['error'][:64]}")
        pending = client.take(params.get("state", ""), request.cookies.get(BINDING))
        claims = await client.claims(params.get("code", ""), pending)
        username = str(claims.get(client.config.username_claim, ""))[:64]
        user = await run_in_threadpool(_local_user, ctx.identity.users.list(), username)
    except OidcFailed as failed:
        return await _refused(request, str(failed), username=username)
    session = ctx.identity.sessions.sign_in(request.cookies.get(COOKIE), user.id)
    record_sign_in("succeeded", "oidc")
    await run_in_threadpool(
        record, ctx.identity.audit_log, EntryType.LOGIN, actor=user.username,
        when=datetime.now(UTC), reason="signed in through the identity provider",
        data={"username": user.username, "method": "oidc", "issuer": client.config.issuer},
    )  # fmt: skip
    response = HTMLResponse(DONE)
    set_session_cookie(request, response, session)
    response.delete_cookie(BINDING, path="/login/oidc")
    return response


def _local_user(users: list[User], username: str) -> User:
    found = next((u for u in users if u.username == username), None) if username else None
    if found is None:
        raise OidcFailed(f"{username or '(no user name)'} is not a user of this console")
    if found.disabled:
        raise OidcFailed(f"{username} is disabled")
    return found


async def _refused(request: Request, why: str, *, username: str) -> Response:
    record_sign_in("refused", "oidc")
    ctx = context(request)
    await run_in_threadpool(
        record, ctx.identity.audit_log, EntryType.LOGIN_FAILED, actor=username or "(oidc)",
        when=datetime.now(UTC), reason="sign-in through the identity provider refused",
        data={"username": username, "method": "oidc", "why": why},
    )  # fmt: skip
    session = session_of(request) or ctx.identity.sessions.create()
    response = page(
        request, "login.html", 401, csrf_token=session.csrf_token, viewer=None,
        error=f"Sign-in through the identity provider failed: {why}", oidc=True,
    )  # fmt: skip
    set_session_cookie(request, response, session)
    return response
