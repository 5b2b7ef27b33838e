"""Sessions, permissions, CSRF and security headers: checked on every route.

Every route but the sign-in page and static files declares the permission it needs with
`need(...)`; the security tests walk the route table and prove none was forgotten.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

from console.context import ConsoleContext
from identity.roles import Permission
from identity.sessions import ConsoleSession
from identity.users import User

COOKIE = "closeloop_session"
PUBLIC_PATHS = ("/login", "/static")

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


class NotSignedIn(Exception):
    """No valid session: GET goes to the sign-in page, anything else gets 401."""


class Forbidden(Exception):
    def __init__(self, permission: Permission) -> None:
        super().__init__(permission.value)
        self.permission = permission


class CsrfRefused(Exception):
    """A POST without the session's CSRF token."""


def context(request: Request) -> ConsoleContext:
    ctx: ConsoleContext = request.app.state.ctx
    return ctx


def session_of(request: Request) -> ConsoleSession | None:
    return context(request).identity.sessions.get(request.cookies.get(COOKIE))


def set_session_cookie(request: Request, response: Response, session: ConsoleSession) -> None:
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
        expires=session.expires_at,
    )


class Viewer:
    """The signed-in user and their session, as a route sees them."""

    def __init__(self, user: User, session: ConsoleSession) -> None:
        self.user = user
        self.session = session

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token


def need(permission: Permission) -> Callable[[Request], Awaitable[Viewer]]:
    """A dependency: the viewer, if signed in with a role that has `permission`."""

    async def dependency(request: Request) -> Viewer:
        session = session_of(request)
        if session is None or session.user_id is None:
            raise NotSignedIn()
        user = context(request).identity.users.get(session.user_id)
        if user is None or user.disabled:
            raise NotSignedIn()
        if not user.can(permission):
            raise Forbidden(permission)
        viewer = Viewer(user, session)
        if request.method == "POST":
            await check_csrf(request, session)
        return viewer

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


async def check_csrf(request: Request, session: ConsoleSession) -> dict[str, Any]:
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, session.csrf_token):
        raise CsrfRefused()
    return dict(form)


# Route parameters: `viewer: Deciding` both checks the permission and hands the viewer over.
Viewing = Annotated[Viewer, Depends(need(Permission.VIEW))]
Deciding = Annotated[Viewer, Depends(need(Permission.DECIDE))]
Auditing = Annotated[Viewer, Depends(need(Permission.AUDIT))]
Administering = Annotated[Viewer, Depends(need(Permission.MANAGE_USERS))]
