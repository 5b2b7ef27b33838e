"""Connecting to Temporal the same way from every process."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter

from base.settings import Settings
from schemas import search_attributes


async def connect(settings: Settings, *, attempts: int = 1, delay: float = 1.0) -> Client:
    """Connect with the pydantic data converter, so every payload is a typed model."""
    last: Exception | None = None
    for attempt in range(max(1, attempts)):
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
            )
        except RuntimeError as exc:  # the core SDK reports connection failures this way
            last = exc
            if attempt + 1 < attempts:
                await asyncio.sleep(delay)
    assert last is not None
    raise last


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
