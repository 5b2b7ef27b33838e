"""What the CLI tests on a real Temporal server share, whichever command group they run.

Every such test registers the search attributes, runs the real command in a thread (it
runs its own event loop, as from a shell) and reads a JSON document out of output that the
in-process worker's log lines share.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from click.testing import CliRunner, Result
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError

from closeloop.cli import main
from schemas import search_attributes


async def register_search_attributes(client: Client) -> None:
    """The test server does not list search attributes, but it does add them."""
    with contextlib.suppress(RPCError):  # already added earlier in this session
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
                    for key in search_attributes.ALL
                },
            )
        )


async def invoke(args: list[str], environ: dict[str, str]) -> Result:
    """The real command in a thread: it runs its own event loop, as from a shell."""
    return await asyncio.to_thread(
        CliRunner().invoke, main, args, env=environ, catch_exceptions=False
    )


def json_output(result: Result) -> dict:
    """The JSON document in the output (the in-process worker's log lines share stdout)."""
    text = result.output
    document, _ = json.JSONDecoder().raw_decode(text[text.index("{\n") :])
    return document
