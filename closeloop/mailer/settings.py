"""The SMTP sender's configuration, from `CLOSELOOP_SMTP_*` environment variables.

The password is read from the environment only and never shown: `repr`, logs and `--help`
leave it out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class MailerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOSELOOP_SMTP_", extra="ignore")

    host: str = Field(default="", description="SMTP server; empty: no built-in sender")
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls: upgrade after connecting (port 587); tls: TLS from the first "
        "byte (port 465); none: plain text, only for a relay on the same host",
    )
    username: str = Field(default="", description="empty: send without logging in")
    password: SecretStr = Field(default=SecretStr(""), repr=False)
    sender: str = Field(
        default="complaints@localhost", description="the From address of every message"
    )
    ca_file: Path | None = Field(
        default=None, description="CA certificates to trust for the server's TLS certificate"
    )
    timeout_s: float = Field(default=30.0, gt=0, description="per SMTP conversation")
    retry_budget_s: float = Field(
        default=900.0,
        gt=0,
        description="how long temporary SMTP trouble is retried before message.failed",
    )
    group_id: str = Field(default="closeloop-mailer", description="Kafka consumer group")

    @field_validator("ca_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def enabled(self) -> bool:
        return bool(self.host)


def load_mailer_settings() -> MailerSettings:
    return MailerSettings()
