"""`closeloop worker` and `closeloop stream`: the production entry points."""

from __future__ import annotations

import asyncio

import click

from base.settings import load_settings
from closeloop.cli.errors import Unreachable
from closeloop.logging import configure_logging


@click.command()
def worker() -> None:
    """Run the Temporal worker (complaint workflows and their activities).

    Connects to CLOSELOOP_TEMPORAL_ADDRESS, polls CLOSELOOP_TASK_QUEUE and writes the audit
    log to CLOSELOOP_DATABASE_URL. Runs until SIGINT or SIGTERM. Exits 3 if Temporal does
    not answer within a minute of trying.
    """
    from closeloop.worker import run_worker

    settings = load_settings()
    configure_logging(settings)
    try:
        asyncio.run(run_worker(settings))
    except RuntimeError as error:  # the SDK's way of saying the connection failed
        if not str(error).startswith("Failed client connect"):
            raise
        raise Unreachable(
            f"cannot reach Temporal at {settings.temporal_address}: {error}"
        ) from None


@click.command()
def stream() -> None:
    """Run the stream processor: Kafka events in, workflow starts and updates out.

    Consumes CLOSELOOP_KAFKA_BOOTSTRAP's complaint topics and talks to
    CLOSELOOP_TEMPORAL_ADDRESS. Invalid events go to complaints.dlq.v1. Runs until SIGINT or
    SIGTERM.
    """
    from streams.processor import run_processor

    settings = load_settings()
    configure_logging(settings)
    run_processor(settings)
