"""The console's FastAPI application: routes, templates, error pages, security headers.

With a metrics port, the app also serves /healthz, /readyz and /metrics there, on a port of
its own (base/health.py). Metrics stay off the public HTTP port on purpose: people reach
that port (through the Service and whatever Ingress is in front of it), and request counts,
route templates and the Temporal SDK's internals are nothing to show them; only Prometheus
(and the kubelet) reach the metrics port, which the network policy opens to the monitoring
namespace alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from base.health import Health, start_health_server
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
from console.metrics import RequestMetrics
from console.pages import HERE, page
from console.security import CsrfRefused, Forbidden, NotSignedIn, SecurityHeaders


def route_table(app: FastAPI) -> list[APIRoute]:
    """Every page and form of the console: what the security tests walk through."""
    return [route for router in app.state.routers for route in router.routes
            if isinstance(route, APIRoute)]  # fmt: skip


# Names the setting in the error when the metrics port is taken.
METRICS_PORT_SETTING = "CLOSELOOP_CONSOLE_METRICS_PORT (--metrics-port)"


def metrics_lifespan(
    ctx: ConsoleContext, port: int, sdk_metrics_url: str
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Serve the probes and /metrics on `port` while the app runs, on the server's loop.

    Ready means what the public /readyz means (routes_health.readiness_checks), and not
    before startup is done nor once shutdown has begun.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        health = Health(checks=routes_health.readiness_checks(ctx))
        runner = await start_health_server(
            port, health, sdk_metrics_url, setting=METRICS_PORT_SETTING
        )
        health.ready = True
        try:
            yield
        finally:
            health.ready = False
            await runner.cleanup()

    return lifespan


def create_app(
    ctx: ConsoleContext, *, metrics_port: int | None = None, sdk_metrics_url: str = ""
) -> FastAPI:
    """The console; with `metrics_port`, also its probes and metrics on that port.

    `sdk_metrics_url` is where the Temporal runtime of `ctx` exports the SDK's metrics
    (base.health.metrics_runtime).
    """
    lifespan = metrics_lifespan(ctx, metrics_port, sdk_metrics_url) if metrics_port else None
    app = FastAPI(
        title="Closeloop console", docs_url=None, redoc_url=None, openapi_url=None,
        lifespan=lifespan,
    )  # fmt: skip
    app.state.ctx = ctx
    app.add_middleware(SecurityHeaders)
    # Added last, so outermost of the user middleware: it times the security headers too.
    app.add_middleware(RequestMetrics)
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
