"""The deployment manifests run commands that exist with settings that Closeloop reads.

No container engine runs here, so these tests guard against drift: a renamed command or
environment variable must not leave production manifests pointing at nothing.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from base.settings import Settings
from closeloop.cli import main
from schemas.topics import ALL_TOPICS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def closeloop_env_names(document: object) -> set[str]:
    found: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(key, str) and key.startswith("CLOSELOOP_"):
                found.add(key)
            if key == "name" and isinstance(value, str) and value.startswith("CLOSELOOP_"):
                found.add(value)
            found |= closeloop_env_names(value)
    elif isinstance(document, list):
        for item in document:
            found |= closeloop_env_names(item)
    return found


def known_variables() -> set[str]:
    return {f"CLOSELOOP_{name.upper()}" for name in Settings.model_fields}


def test_compose_runs_real_commands_with_known_settings():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("worker", "stream"):
        command = services[name]["command"]
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0, f"{name}: closeloop {command} does not exist"
    assert closeloop_env_names(compose) <= known_variables()


def test_compose_creates_every_topic_with_its_partitions():
    text = (DEPLOY / "compose.yaml").read_text()
    for topic in ALL_TOPICS:
        assert f"{topic.name}:{topic.partitions}" in text


def test_kubernetes_manifests_run_real_commands_with_known_settings():
    documents = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "closeloop.yaml").read_text()))
    deployments = [d for d in documents if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {"closeloop-worker", "closeloop-stream"}
    for deployment in deployments:
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            result = CliRunner().invoke(main, [*container["args"], "--help"])
            assert result.exit_code == 0, container["args"]
    assert closeloop_env_names(documents) <= known_variables()
