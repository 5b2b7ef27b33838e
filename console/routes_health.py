"""/healthz and /readyz for the kubelet: anonymous, and saying nothing but ok or what is down.

Liveness (/healthz) is the process answering HTTP. Readiness (/readyz) asks the two
dependencies every page needs: the database (identity, sessions and the audit log) and
Temporal (decisions). A body names the dependency that failed, never an address, a
version or an error text; no session is created or cookie set.

The same checks answer /readyz on the metrics port (`closeloop console --metrics-port`,
see console/app.py), so the two ports cannot disagree about what ready means.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from base.health import ReadinessCheck
from console.context import ConsoleContext
from console.security import context

router = APIRouter()

CHECK_TIMEOUT_S = 5.0


@router.get("/healthz")
async def healthz() -> Response:
    return PlainTextResponse("ok\n")


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    checks = readiness_checks(context(request))
    problems = [p for p in await asyncio.gather(*(check() for check in checks)) if p]
    if problems:
        return PlainTextResponse("not ready: " + "; ".join(problems) + "\n", status_code=503)
    return PlainTextResponse("ready\n")


def readiness_checks(ctx: ConsoleContext) -> list[ReadinessCheck]:
    """What ready means for the console: the database and Temporal answer."""
    return [partial(_database, ctx), partial(_temporal, ctx)]


async def _database(ctx: ConsoleContext) -> str | None:
    engine = ctx.identity.audit_log.engine

    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(run_in_threadpool(ping), timeout=CHECK_TIMEOUT_S)
    except Exception:
        return "the database did not answer"
    return None


async def _temporal(ctx: ConsoleContext) -> str | None:
    try:
        client = await asyncio.wait_for(ctx.temporal(), timeout=CHECK_TIMEOUT_S)
        await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_S))
    except Exception:
        return "Temporal did not answer"
    return None
