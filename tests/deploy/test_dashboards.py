"""Grafana dashboards ship as ConfigMaps the Grafana sidecar loads."""

from __future__ import annotations

import json
import re

from tests.deploy.manifests import production


def dashboards() -> dict[str, dict]:
    found = {}
    for doc in production():
        if (
            doc["kind"] == "ConfigMap"
            and doc["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
        ):
            ((filename, text),) = doc["data"].items()
            found[filename] = json.loads(text)
    return found


def metric_names(dashboard: dict) -> set[str]:
    names = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names |= {m for m in re.findall(r"\b(?:temporal|closeloop)_[a-z_]+", target["expr"])}
    return names


def test_the_sdk_and_the_closeloop_dashboards_are_there_with_distinct_uids():
    found = dashboards()
    assert set(found) == {"temporal-sdk.json", "closeloop.json"}
    assert len({d["uid"] for d in found.values()}) == 2


def test_the_sdk_dashboard_charts_temporal_sdk_metrics():
    names = metric_names(dashboards()["temporal-sdk.json"])
    assert {
        "temporal_workflow_task_schedule_to_start_latency_bucket",
        "temporal_activity_execution_latency_bucket",
        "temporal_request_failure",
    } <= names
    assert all(n.startswith("temporal_") for n in names)


def test_the_closeloop_dashboard_charts_what_operators_alert_on():
    names = metric_names(dashboards()["closeloop.json"])
    assert {
        "closeloop_stream_events_dead_lettered_total",
        "closeloop_stream_consumer_lag",
        "closeloop_stream_accept_latency_seconds_bucket",
        "closeloop_audit_checkpoint_age_seconds",
        "closeloop_audit_entries_since_checkpoint",
        "closeloop_complaints_overdue_escalations_total",
    } <= names
    assert all(n.startswith("closeloop_") for n in names)
