"""The Temporal chart's values use keys the chart has: PostgreSQL persistence and visibility.

The chart (temporalio/temporal 1.6) publishes no values schema and is not available offline,
so the values are checked against temporal-chart-1.6.0-keys.yaml, the chart's documented
keys (see its header).
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.deploy.manifests import DEPLOY, HERE, named, production

VALUES = DEPLOY / "helm" / "temporal-values.yaml"
KEYS = HERE / "temporal-chart-1.6.0-keys.yaml"


def unknown_keys(values: Any, allowed: Any, path: str = "") -> list[str]:
    """Paths in `values` that the documented key tree does not have."""
    if allowed == "*":
        return []
    if isinstance(allowed, list):
        assert isinstance(values, list), f"{path}: a list"
        return [
            p
            for i, item in enumerate(values)
            for p in unknown_keys(item, allowed[0], f"{path}[{i}]")
        ]
    assert isinstance(values, dict), f"{path}: a mapping"
    found = []
    for key, value in values.items():
        here = f"{path}.{key}" if path else str(key)
        if key in allowed:
            found += unknown_keys(value, allowed[key], here)
        elif "*" in allowed:
            found += unknown_keys(value, allowed["*"], here)
        else:
            found.append(here)
    return found


def values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(VALUES.read_text())
    return loaded


def test_the_values_use_only_keys_of_the_chart():
    assert unknown_keys(values(), yaml.safe_load(KEYS.read_text())) == []


def test_the_key_check_catches_a_misspelt_key():
    misspelt: dict[str, Any] = {"server": {"config": {"persistance": {}}}}
    assert unknown_keys(misspelt, yaml.safe_load(KEYS.read_text())) == ["server.config.persistance"]


def test_persistence_and_advanced_visibility_are_on_postgresql_with_secret_passwords():
    persistence = values()["server"]["config"]["persistence"]
    stores = persistence["datastores"]
    for role in ("defaultStore", "visibilityStore"):
        sql = stores[persistence[role]]["sql"]
        # postgres12: PostgreSQL 12+, which gives SQL advanced visibility (custom attributes).
        assert sql["pluginName"] == "postgres12", role
        assert "password" not in sql and sql["existingSecret"], role
    assert persistence["defaultStore"] != persistence["visibilityStore"]
    assert stores[persistence["visibilityStore"]]["sql"]["databaseName"] == "temporal_visibility"
    assert "elasticsearch" not in stores[persistence["visibilityStore"]]


def test_the_chart_creates_the_namespace_and_the_frontend_closeloop_talks_to():
    config = named(production(), "ConfigMap", "closeloop")["data"]
    namespaces = values()["server"]["config"]["namespaces"]
    assert namespaces["create"] is True
    assert config["CLOSELOOP_TEMPORAL_NAMESPACE"] in {n["name"] for n in namespaces["namespace"]}
    # Release `temporal` in namespace `temporal`: the chart names the frontend Service so.
    assert config["CLOSELOOP_TEMPORAL_ADDRESS"] == "temporal-frontend.temporal.svc:7233"
    host = values()["server"]["config"]["persistence"]["datastores"]["default"]["sql"][
        "connectAddr"
    ]
    postgres = named(production(), "Service", "temporal-postgres")
    assert host == f"temporal-postgres.{postgres['metadata']['namespace']}.svc:5432"
