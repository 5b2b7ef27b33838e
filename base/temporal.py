"""Connecting to Temporal the same way from every process."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from base.retry import retry_while_raising
from base.settings import Settings
from base.temporal_retry import is_transient
from base.tracing import client_interceptors
from schemas import search_attributes


async def connect(
    settings: Settings, *, budget_s: float | None = None, runtime: Runtime | None = None
) -> Client:
    """Connect with the pydantic data converter, so every payload is a typed model.

    With a budget, a Temporal that is not reachable yet (still starting, restarting) is
    retried for that many seconds; without one the first failure is raised.
    """

    async def attempt() -> Client:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
            runtime=runtime,
            interceptors=client_interceptors(settings),
        )

    if budget_s is None:
        return await attempt()
    return await retry_while_raising(
        attempt,
        transient=is_transient,
        what="temporal not reachable",
        log_context={"temporal": settings.temporal_address},
        initial_delay=0.5,
        max_delay=2.0,
        budget_s=budget_s,
    )


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register Closeloop's search attributes on the namespace; returns the ones added.

    Idempotent, so the launcher and every worker may call it at start.
    """
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    known = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = {
        key.name: IndexedValueType.ValueType(_indexed_type(key.indexed_value_type))
        for key in search_attributes.ALL
        if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


def _indexed_type(value: SearchAttributeIndexedValueType) -> int:
    return int(value)
