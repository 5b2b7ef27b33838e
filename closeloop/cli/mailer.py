"""`closeloop mailer`: deliver messages to the complainant by SMTP."""

from __future__ import annotations

import click

from base.settings import load_settings
from closeloop.cli.errors import CannotCheck
from closeloop.logging import configure_logging


@click.command()
def mailer() -> None:
    """Send complaints.customer-messages.v1 to the complainants by SMTP.

    For organisations whose CRM or mail system does not consume the messages topic. Each
    message is sent once (a ledger in CLOSELOOP_HOME remembers message ids), temporary SMTP
    trouble is retried, and the outcome goes back on complaints.updates.v1 as
    message.delivered or message.failed.

    Settings: CLOSELOOP_SMTP_HOST (required), CLOSELOOP_SMTP_PORT (587),
    CLOSELOOP_SMTP_SECURITY (starttls | tls | none), CLOSELOOP_SMTP_USERNAME,
    CLOSELOOP_SMTP_PASSWORD (from the environment, never shown), CLOSELOOP_SMTP_SENDER,
    CLOSELOOP_SMTP_CA_FILE, CLOSELOOP_SMTP_RETRY_BUDGET_S (900). Runs until SIGINT or
    SIGTERM.
    """
    from closeloop.mailer.process import run_mailer
    from closeloop.mailer.settings import load_mailer_settings

    settings = load_settings()
    configure_logging(settings)
    try:
        mailer_settings = load_mailer_settings()
    except ValueError as error:
        raise CannotCheck(f"the SMTP settings are not usable: {error}") from None
    if not mailer_settings.enabled:
        raise CannotCheck(
            "CLOSELOOP_SMTP_HOST is not set: say which SMTP server delivers the messages, "
            "e.g. CLOSELOOP_SMTP_HOST=smtp.example.com"
        )
    run_mailer(settings, mailer_settings)
