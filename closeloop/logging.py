"""structlog, configured once per process.

JSON lines when the output is not a terminal (production, log files), readable console
lines for people. Personal data never goes in: callers log ids, never names or emails.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from base.settings import Settings

_configured = False


def configure_logging(settings: Settings, *, stream: Any = None) -> None:
    """Set up structlog and the standard library root logger to share one format."""
    global _configured
    out = stream or sys.stderr
    fmt = settings.log_format or ("console" if out.isatty() else "json")
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info if fmt == "json" else _identity,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party libraries are chatty at INFO; their warnings still come through.
    for noisy in ("kafka", "aiokafka", "faust", "mode", "temporalio.activity"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    _configured = True


def _identity(_: Any, __: str, event_dict: Any) -> Any:
    return event_dict


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
