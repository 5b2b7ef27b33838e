"""One SMTP conversation per message: compose, connect (TLS or STARTTLS), log in, send.

SMTP's own reply codes tell temporary trouble (4xx, a dropped connection, a timeout: try
again later) from a permanent refusal (5xx: retrying will not help). Replies are kept
without addresses, because servers like to quote them.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from closeloop.mailer.settings import MailerSettings
from schemas.customer_message import CustomerMessage

ADDRESS = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+")


class TemporaryFailure(Exception):
    """Try again later: the message was not accepted yet."""


class PermanentFailure(Exception):
    """The server refused the message for good."""


def without_addresses(text: str) -> str:
    return ADDRESS.sub("[address]", text)


def compose(message: CustomerMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    recipient = message.recipient
    assert recipient.email is not None
    user, _, domain = recipient.email.rpartition("@")
    email["From"] = sender
    email["To"] = Address(display_name=recipient.name or "", username=user, domain=domain)
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    # The same id on every copy: mail clients and servers that see it twice show it once.
    email["Message-ID"] = f"<{message.message_id.replace(':', '.')}@closeloop.invalid>"
    email["X-Closeloop-Message-Id"] = message.message_id
    email.set_content(message.body)  # clears Content-* headers: Content-Language after it
    email["Content-Language"] = message.language
    return email


def _tls_context(settings: MailerSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)


def send(settings: MailerSettings, message: CustomerMessage) -> str:
    """Deliver `message` to the SMTP server; returns the server's reply to the data."""
    email = compose(message, settings.sender)
    try:
        client: smtplib.SMTP
        if settings.security == "tls":
            client = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout_s,
                context=_tls_context(settings),
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
        with client:
            if settings.security == "starttls":
                client.starttls(context=_tls_context(settings))
            if settings.username:
                client.login(settings.username, settings.password.get_secret_value())
            refused = client.send_message(email)
            if refused:
                raise PermanentFailure("the server refused the recipient")
            return "accepted"
    except smtplib.SMTPAuthenticationError as error:
        # the sender's configuration, not the message: retried until someone fixes it
        raise TemporaryFailure(f"login refused ({error.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        kind = TemporaryFailure if all(400 <= c < 500 for c in codes) else PermanentFailure
        raise kind(f"recipient refused ({', '.join(map(str, codes))})") from None
    except smtplib.SMTPResponseException as error:
        reply = without_addresses(
            error.smtp_error.decode("utf-8", "replace")
            if isinstance(error.smtp_error, bytes)
            else str(error.smtp_error)
        )
        kind = TemporaryFailure if 400 <= error.smtp_code < 500 else PermanentFailure
        raise kind(f"{error.smtp_code} {reply}") from None
    except (smtplib.SMTPException, OSError) as error:  # connection, TLS, timeout
        raise TemporaryFailure(f"{type(error).__name__}: {without_addresses(str(error))}") from None
