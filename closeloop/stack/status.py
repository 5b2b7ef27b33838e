"""`closeloop status`: what runs where, checked now, not remembered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from base.settings import Settings
from closeloop.stack.layout import PARTS, StackLayout
from closeloop.stack.processes import ManagedProcess, read_pidfile
from closeloop.stack.readiness import http_answers, run_sync
from closeloop.stack.services import broker_healthy, temporal_healthy, temporal_ui_url


@dataclass(frozen=True)
class PartStatus:
    name: str
    pid: int | None
    address: str
    state: str  # healthy | unhealthy | down
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "healthy"


def status(settings: Settings) -> list[PartStatus]:
    """Each part in start order; a recorded part whose process is gone reports down."""
    layout = StackLayout.of(settings)

    def check(name: str) -> PartStatus:
        part = read_pidfile(layout.pid_path(name))
        if part is None:
            return PartStatus(name, None, "", "down", "not running")
        if not part.alive():
            return PartStatus(name, part.pid, part.address, "down", "process gone (stale pid file)")
        healthy, detail = probe(part)
        return PartStatus(
            name, part.pid, part.address, "healthy" if healthy else "unhealthy", detail
        )

    with ThreadPoolExecutor(max_workers=len(PARTS)) as pool:
        return list(pool.map(check, PARTS))


def probe(part: ManagedProcess) -> tuple[bool, str]:
    """Ask a running part whether it serves: Temporal gRPC and UI, broker metadata."""
    if part.name == "temporal":
        ui = temporal_ui_url(part.address)
        if not run_sync(lambda: temporal_healthy(part.address)):
            return False, "gRPC not answering"
        return (True, f"UI {ui}") if http_answers(ui) else (False, f"UI {ui} not answering")
    if part.name == "broker":
        ok = broker_healthy(part.address)
        return ok, "metadata ok" if ok else "metadata request failed"
    return True, f"running, log {part.log_path}"
