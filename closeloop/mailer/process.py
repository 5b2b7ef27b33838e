"""The `closeloop mailer` process: wiring, signals and a clean stop."""

from __future__ import annotations

import signal
import threading

from base.settings import Settings
from closeloop.mailer.ledger import Ledger
from closeloop.mailer.reports import Reporter
from closeloop.mailer.service import Mailer
from closeloop.mailer.settings import MailerSettings

LEDGER_FILE = "mailer-ledger.sqlite"


def run_mailer(settings: Settings, mailer_settings: MailerSettings) -> None:
    """Run until SIGINT or SIGTERM; a message being retried is left for the next start."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    ledger = Ledger(settings.home_dir / LEDGER_FILE)
    reporter = Reporter(settings.kafka_bootstrap)
    try:
        Mailer(mailer_settings, ledger, reporter, stop).run(settings.kafka_bootstrap)
    finally:
        reporter.close()
        ledger.close()
