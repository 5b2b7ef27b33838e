"""What every request handler needs: settings, identity, the audit log and Temporal."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from temporalio.client import Client
from temporalio.runtime import Runtime

from base.settings import Settings
from base.temporal import connect
from console.oidc import OidcClient, OidcConfig
from identity.service import Identity


def _oidc_from_env() -> OidcClient | None:
    config = OidcConfig.from_env()
    return OidcClient(config) if config else None


@dataclass
class ConsoleContext:
    settings: Settings
    identity: Identity
    client: Client | None = None
    # The Temporal runtime the client is made with; None: the SDK's default runtime, which
    # exports no metrics. `closeloop console --metrics-port` passes one that does.
    runtime: Runtime | None = None
    # Sign-in through an OpenID Connect provider; None (the default) when not configured.
    oidc: OidcClient | None = field(default_factory=_oidc_from_env)
    # MACs the list's page tokens; per process, so a page link outlives no restart.
    page_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def temporal(self) -> Client:
        """One client for the whole process, connected at first use."""
        async with self._lock:
            if self.client is None:
                try:
                    self.client = await connect(self.settings, budget_s=5, runtime=self.runtime)
                except RuntimeError:
                    where = self.settings.temporal_address
                    raise HTTPException(503, f"Temporal at {where} does not answer") from None
            return self.client
