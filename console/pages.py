"""Rendering a page: the one Jinja2 environment every route uses.

Its own module so that routes and the application both depend on it, and not on each other.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

HERE = Path(__file__).parent
# Jinja2Templates autoescapes .html templates: every value is escaped unless marked safe,
# and no template marks anything safe.
templates = Jinja2Templates(directory=HERE / "templates")


def page(request: Request, name: str, status_code: int = 200, **values: object) -> Response:
    return templates.TemplateResponse(request, name, values, status_code=status_code)
