"""Account overview for administrators (changes are made with `closeloop users`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console.pages import page
from console.security import Administering, context

router = APIRouter()


@router.get("/admin/users")
async def users_page(request: Request, viewer: Administering) -> Response:
    users = await run_in_threadpool(context(request).identity.users.list)
    return page(request, "users.html", viewer=viewer, users=users)
