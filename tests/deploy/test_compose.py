"""The single-host compose stack runs real commands and creates every topic of the contract."""

from __future__ import annotations

import re

import yaml
from click.testing import CliRunner

from closeloop.cli import main
from schemas.topics import ALL_TOPICS
from tests.deploy.manifests import DEPLOY, production

COMPOSE = DEPLOY / "compose.yaml"


def services() -> dict[str, dict]:
    loaded: dict[str, dict] = yaml.safe_load(COMPOSE.read_text())["services"]
    return loaded


def test_the_closeloop_services_run_commands_that_exist_from_the_image():
    built = {name: s for name, s in services().items() if s.get("build")}
    assert set(built) == {"worker", "stream"}
    for name, service in built.items():
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        result = CliRunner().invoke(main, [*service["command"], "--help"])
        assert result.exit_code == 0, f"{name}: closeloop {service['command']}"


def test_every_topic_is_created_with_the_partitions_and_retention_of_the_cluster():
    script = services()["kafka-topics"]["command"][0]
    created = {
        name: (int(partitions), int(retention))
        for name, partitions, retention in re.findall(r"([a-z.0-9-]+):(\d+):(-?\d+)", script)
    }
    cluster = {
        d["spec"]["topicName"]: int(d["spec"]["config"]["retention.ms"])
        for d in production()
        if d["kind"] == "KafkaTopic"
    }
    assert created == {t.name: (t.partitions, cluster[t.name]) for t in ALL_TOPICS}
