"""Replay the saved histories of finished workflows with today's code.

A change to workflow code that is not deterministic against these histories (a new
activity, timer or child in a different place, without `workflow.patched`) fails here,
before it can break the complaints that are running in production.

The histories come from the time-skipping tests (`CLOSELOOP_RECORD_HISTORIES=1 pytest
tests/workflows`); record new ones only for a new path or a patched change, and keep the
old ones: they are what running workflows look like.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_there_are_histories_of_every_workflow_type():
    names = {path.stem for path in HISTORIES}
    assert any(name.startswith("complaint-") for name in names)
    assert any(name.startswith("capa-action-") for name in names)


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_replay(path: Path):
    replayer = Replayer(
        workflows=[ComplaintWorkflow, CapaActionWorkflow], data_converter=pydantic_data_converter
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
