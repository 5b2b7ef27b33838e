"""Waiting for a server to become ready, from sync code, with errors people can act on."""

from __future__ import annotations

import asyncio
import concurrent.futures
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_delay, wait_fixed

from closeloop.stack.processes import ManagedProcess

T = TypeVar("T")

POLL_SECONDS = 0.25


class StackError(RuntimeError):
    """A part of the stack could not start or is not healthy; the message says why."""


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop
    (async test fixtures call the sync helpers too)."""

    async def main() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def http_answers(url: str, timeout: float = 2.0) -> bool:
    """True if anything answers HTTP at `url` (any status code counts)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 (our own localhost URL)
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def wait_until(
    what: str,
    address: str,
    ready: Callable[[], bool],
    timeout: float,
    process: ManagedProcess | None = None,
) -> None:
    """Poll `ready` until True; StackError (with the log's tail) if `process` dies or time
    runs out. The polling is tenacity's: a fixed pause, a time budget (not a count)."""

    def attempt() -> bool:
        if process is not None and not process.alive():
            raise StackError(
                f"{what} exited while starting (log {process.log_path}):\n{process.log_tail()}"
            )
        return ready()

    def out_of_time(_state: RetryCallState) -> None:
        detail = f" (log {process.log_path}):\n{process.log_tail()}" if process else ""
        raise StackError(f"{what} at {address} not ready after {timeout:.0f}s{detail}")

    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(POLL_SECONDS),
        retry=retry_if_result(lambda answered: not answered),  # exceptions are not retried
        retry_error_callback=out_of_time,
    )
    retrying(attempt)
