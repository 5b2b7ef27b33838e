"""`closeloop status`: what runs where, checked now, not remembered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from kafka.errors import KafkaError

from base.settings import Settings
from closeloop.stack.console_part import login_url
from closeloop.stack.layout import OPTIONAL_PARTS, PARTS, StackLayout
from closeloop.stack.processes import ManagedProcess, read_pidfile
from closeloop.stack.readiness import http_answers, run_sync
from closeloop.stack.services import broker_topics, temporal_healthy, temporal_ui_url
from closeloop.stack.supervise import read_restarts
from schemas.topics import ALL_TOPICS


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
        detail += restart_note(layout, name) if name == "broker" else ""
        return PartStatus(
            name, part.pid, part.address, "healthy" if healthy else "unhealthy", detail
        )

    # An optional part (the SMTP sender) is listed when this stack started it.
    started = [name for name in OPTIONAL_PARTS if layout.pid_path(name).exists()]
    with ThreadPoolExecutor(max_workers=len(PARTS) + len(started)) as pool:
        return list(pool.map(check, (*PARTS, *started)))


def probe(part: ManagedProcess) -> tuple[bool, str]:
    """Ask a running part whether it serves: Temporal gRPC and UI, broker metadata, the
    console's sign-in page."""
    if part.name == "temporal":
        ui = temporal_ui_url(part.address)
        if not run_sync(lambda: temporal_healthy(part.address)):
            return False, "gRPC not answering"
        return (True, f"UI {ui}") if http_answers(ui) else (False, f"UI {ui} not answering")
    if part.name == "broker":
        return probe_broker(part.address)
    if part.name == "console":
        url = login_url(part.address)
        return (True, url) if http_answers(url) else (False, f"{url} not answering")
    return True, f"running, log {part.log_path}"


def probe_broker(address: str) -> tuple[bool, str]:
    """The broker answers and still has every topic: a restarted in-memory broker has none
    (or only what clients auto-created since), and has lost what it held (issue 8.12)."""
    try:
        present = set(broker_topics(address, timeout=3.0))
    except (KafkaError, OSError):
        return False, "metadata request failed"
    missing = sorted({spec.name for spec in ALL_TOPICS} - present)
    if missing:
        return False, (
            f"topics missing ({', '.join(missing)}): the broker restarted and lost its "
            "in-memory data; restart the stack (`closeloop down`, `closeloop up`)"
        )
    return True, "metadata ok, all topics present"


def restart_note(layout: StackLayout, name: str) -> str:
    restarts = read_restarts(layout, name)
    if not restarts:
        return ""
    return (
        f"; restarted {restarts['count']}x by the launcher, last at {restarts['last']}: "
        "unconsumed events, dead letters and checkpoints from before were lost"
    )
