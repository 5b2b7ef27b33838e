"""Replay a saved history of the scheduled trend run with today's code.

A change to `TrendAnalysisWorkflow` that is not deterministic against it (another activity,
a timer) fails here, before it breaks a run in flight. Recorded by
`CLOSELOOP_RECORD_HISTORIES=1 pytest tests/trends/test_schedule.py`; keep old histories.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from trends.workflow import TrendAnalysisWorkflow

HISTORY = Path(__file__).parent / "histories" / "trend-analysis-run.json"


async def test_the_saved_trend_run_replays() -> None:
    history = WorkflowHistory.from_json("trend-analysis-run", HISTORY.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=[TrendAnalysisWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
