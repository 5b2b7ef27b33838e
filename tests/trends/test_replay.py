"""Replay the saved histories of the scheduled trend run with today's code.

A change to `TrendAnalysisWorkflow` that is not deterministic against them (another activity,
a timer, a child started differently) fails here, before it breaks a run in flight. Recorded
by `CLOSELOOP_RECORD_HISTORIES=1 pytest tests/trends/test_schedule.py` (a run that opens
nothing, from before signals opened improvements) and `tests/trends/test_opening_workflow.py`
(a run that opens an improvement); keep old histories.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from trends.workflow import TrendAnalysisWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_both_kinds_of_run_are_saved() -> None:
    names = {path.stem for path in HISTORIES}
    assert {"trend-analysis-run", "trend-analysis-opens-improvement"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_the_saved_trend_run_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=[TrendAnalysisWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
