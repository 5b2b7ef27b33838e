"""Rendering a page from the templates: what every route module shares with the app.

Kept apart from `console.app` so route modules need not import the module that imports
them (no import cycle).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

HERE = Path(__file__).parent
# Jinja2Templates autoescapes .html templates: every value is escaped unless marked safe;
# only the KPI charts (SVG drawn by kpi.charts, which escapes its labels) are marked safe.
templates = Jinja2Templates(directory=HERE / "templates")


def page(request: Request, name: str, status_code: int = 200, **values: object) -> Response:
    return templates.TemplateResponse(request, name, values, status_code=status_code)
