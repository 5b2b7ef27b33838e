"""/healthz and /readyz for the kubelet: anonymous, and saying nothing but ok or what is down.

Liveness (/healthz) is the process answering HTTP. Readiness (/readyz) asks the two
dependencies every page needs: the database (identity, sessions and the audit log) and
Temporal (decisions). A body names the dependency that failed, never an address, a
version or an error text; no session is created or cookie set.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from console.security import context

router = APIRouter()

CHECK_TIMEOUT_S = 5.0


@router.get("/healthz")
async def healthz() -> Response:
    return PlainTextResponse("ok\n")


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    problems = [p for p in await asyncio.gather(_database(request), _temporal(request)) if p]
    if problems:
        return PlainTextResponse("not ready: " + "; ".join(problems) + "\n", status_code=503)
    return PlainTextResponse("ready\n")


async def _database(request: Request) -> str | None:
    engine = context(request).identity.audit_log.engine

    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(run_in_threadpool(ping), timeout=CHECK_TIMEOUT_S)
    except Exception:
        return "the database did not answer"
    return None


async def _temporal(request: Request) -> str | None:
    try:
        client = await asyncio.wait_for(context(request).temporal(), timeout=CHECK_TIMEOUT_S)
        await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_S))
    except Exception:
        return "Temporal did not answer"
    return None
