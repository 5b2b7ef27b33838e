"""The console's FastAPI application: routes, templates, error pages, security headers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from console import (
    routes_admin,
    routes_audit,
    routes_auth,
    routes_complaints,
    routes_health,
    routes_kpi,
    routes_oidc,
)
from console.context import ConsoleContext
from console.pages import HERE, page
from console.security import CsrfRefused, Forbidden, NotSignedIn, SecurityHeaders


def route_table(app: FastAPI) -> list[APIRoute]:
    """Every page and form of the console: what the security tests walk through."""
    return [route for router in app.state.routers for route in router.routes
            if isinstance(route, APIRoute)]  # fmt: skip


def create_app(ctx: ConsoleContext) -> FastAPI:
    app = FastAPI(title="Closeloop console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.routers = [
        routes_auth.router,
        routes_complaints.router,
        routes_audit.router,
        routes_kpi.router,
        routes_admin.router,
        routes_health.router,
    ]
    if ctx.oidc is not None:
        app.state.routers.append(routes_oidc.router)
    for router in app.state.routers:
        app.include_router(router)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return page(request, "error.html", 401, message="sign in first", viewer=None)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        message = f"your role may not do this (needs permission '{exc.permission.value}')"
        return page(request, "error.html", 403, message=message, viewer=None)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        message = "the form was stale or not from this console: reload the page and try again"
        return page(request, "error.html", 403, message=message, viewer=None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return page(request, "error.html", exc.status_code, message=str(exc.detail), viewer=None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Never a stack trace on a page: the details stay in the server's log.
        return page(request, "error.html", 500, message="something went wrong", viewer=None)

    return app
