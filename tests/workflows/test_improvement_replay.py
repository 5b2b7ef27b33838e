"""Replay the saved histories of finished improvements with today's code.

Like `test_replay.py` for complaints: a change to `ImprovementWorkflow` (or to the CAPA
children it shares with complaints) that is not deterministic against these histories fails
here. Record them with `CLOSELOOP_RECORD_HISTORIES=1 pytest tests/workflows/test_improvement.py`
only for a new path or a `workflow.patched` change; keep the old ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.capa import CapaActionWorkflow
from workflows.improvement import ImprovementWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories" / "improvements").glob("*.json"))


def test_the_standardise_and_round_again_paths_are_saved():
    assert {path.stem for path in HISTORIES} >= {
        "improvement-standardised",
        "improvement-round-again-then-standardised",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_replay(path: Path):
    replayer = Replayer(
        workflows=[ImprovementWorkflow, CapaActionWorkflow], data_converter=pydantic_data_converter
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
