"""The console's own Prometheus metrics: requests, their durations, sign-ins, decisions.

They live in prometheus_client's default registry, which `/metrics` on the console's metrics
port serves after the Temporal SDK's (base/health.py). Labels come from small, fixed sets
only: a request is labelled with its route's template (`/complaints/{complaint_id}`, never
the concrete path), so neither complaint ids nor anything a person typed reaches a label,
and the number of series stays bounded however the console is probed; sign-ins and decisions
are counted by outcome and decision name, never by user name, e-mail or id.
"""

from __future__ import annotations

import time
from typing import Literal

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What a request is labelled with when no route matched (a 404 on a made-up path).
UNMATCHED = "(unmatched)"

REQUESTS = Counter(
    "closeloop_console_requests",
    "HTTP requests the console answered, by route template, method and status class.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "closeloop_console_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template.",
    ["route"],
)
SIGN_INS = Counter(
    "closeloop_console_sign_ins",
    "Sign-in attempts that reached a verdict, by outcome and method (password or oidc).",
    ["outcome", "method"],
)
DECISIONS = Counter(
    "closeloop_console_decisions_signed",
    "Signed decisions submitted to the complaint's workflow, by decision and outcome "
    "(accepted, or refused by the workflow's rules).",
    ["decision", "outcome"],
)

# The methods a label may carry; anything else a client sends counts as OTHER.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def record_sign_in(outcome: Literal["succeeded", "refused"], method: str) -> None:
    """Count a sign-in; `method` is "password" or "oidc", never who signed in."""
    SIGN_INS.labels(outcome=outcome, method=method).inc()


def record_decision(decision: str, outcome: Literal["accepted", "refused"]) -> None:
    """Count a signed decision; `decision` is one of the console's decision forms."""
    DECISIONS.labels(decision=decision, outcome=outcome).inc()


def route_template(scope: Scope) -> str:
    """The matched route's template, as the router saw it; never the concrete path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else UNMATCHED


class RequestMetrics:
    """ASGI middleware counting and timing every HTTP request by its route template.

    Pure ASGI rather than BaseHTTPMiddleware: it sees the status the client got, including
    the pages of the app's exception handlers, and a request that raised counts as 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = route_template(scope)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            REQUESTS.labels(route=route, method=method, status=f"{status // 100}xx").inc()
            REQUEST_SECONDS.labels(route=route).observe(time.perf_counter() - started)
