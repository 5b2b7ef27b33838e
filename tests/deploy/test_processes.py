"""Closeloop's workloads: real commands, probes, limits, budgets, no privileges, no secrets."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from audit.protection import AUDITOR_ROLE, WRITER_ROLE
from closeloop.cli import main
from tests.deploy.manifests import (
    closeloop_containers,
    containers,
    environment,
    named,
    pod_spec,
    production,
)

LONG_RUNNING = ("closeloop-worker", "closeloop-stream", "closeloop-console")


def selected_by(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_every_closeloop_container_runs_a_command_that_exists():
    for workload, container in closeloop_containers(production()):
        args = container["args"]
        result = CliRunner().invoke(main, [*args, "--help"])
        assert result.exit_code == 0, f"{workload['metadata']['name']}: closeloop {args}"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_processes_have_probes_limits_and_a_disruption_budget(name):
    docs = production()
    deployment = named(docs, "Deployment", name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for container in containers(deployment):
        assert container.get("livenessProbe") and container.get("readinessProbe"), name
        for key in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][key]), (name, key)
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
    pod = pod_spec(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    budgets = [
        d
        for d in docs
        if d["kind"] == "PodDisruptionBudget" and selected_by(d["spec"]["selector"], labels)
    ]
    assert len(budgets) == 1, f"{name}: one PodDisruptionBudget"


def test_the_console_has_a_service():
    service = named(production(), "Service", "closeloop-console")
    console = named(production(), "Deployment", "closeloop-console")
    assert selected_by(
        {"matchLabels": service["spec"]["selector"]},
        console["spec"]["template"]["metadata"]["labels"],
    )


def test_secrets_are_referenced_never_written_down():
    docs = production()
    assert not [d for d in docs if d["kind"] == "Secret"], "Secrets are created by the operator"
    text = yaml.safe_dump_all(docs)
    assert "PRIVATE KEY" not in text
    for workload, container in closeloop_containers(docs):
        env = environment(docs, workload, container)
        for name in ("CLOSELOOP_AUDIT_SIGNING_KEY", "CLOSELOOP_DATABASE_URL"):
            if name in env:
                assert isinstance(env[name], dict) and "secretKeyRef" in env[name], name


def database_key(name: str, container_name: str | None = None) -> str:
    docs = production()
    workload = next(
        d for d in docs if d["metadata"]["name"] == name and "spec" in d and "template" in d["spec"]
    )
    container = next(
        c for c in containers(workload) if container_name is None or c["name"] == container_name
    )
    ref = environment(docs, workload, container)["CLOSELOOP_DATABASE_URL"]["secretKeyRef"]
    assert ref["name"] == "closeloop-audit-db"
    return str(ref["key"])


def test_each_process_uses_the_least_database_role_it_needs():
    assert database_key("closeloop-worker") == "writer-url"
    assert database_key("closeloop-console") == "auditor-url"
    assert database_key("closeloop-audit-setup", "audit-setup") == "owner-url"


def test_the_audit_setup_job_creates_the_roles_and_gives_them_passwords():
    job = named(production(), "Job", "closeloop-audit-setup")
    setup, passwords = containers(job)
    assert setup["args"] == ["audit", "setup"]
    script = passwords["args"][0]
    for role in (WRITER_ROLE, AUDITOR_ROLE):
        assert f"ALTER ROLE {role} PASSWORD" in script
    secret_keys = {
        e["valueFrom"]["secretKeyRef"]["key"] for e in passwords["env"] if "valueFrom" in e
    }
    assert {"writer-password", "auditor-password", "owner-password"} <= secret_keys


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_prometheus_scrapes_each_process_on_its_metrics_port_which_the_policy_opens(name):
    docs = production()
    deployment = named(docs, "Deployment", name)
    template = deployment["spec"]["template"]
    (container,) = containers(deployment)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == ports["metrics"], name
    assert annotations["prometheus.io/path"] == "/metrics"
    policy = named(docs, "NetworkPolicy", "closeloop-metrics")
    (selects,) = policy["spec"]["podSelector"]["matchExpressions"]
    component = template["metadata"]["labels"][selects["key"]]
    assert selects["operator"] == "In" and component in selects["values"], name
    assert {"port": "metrics"} in policy["spec"]["ingress"][0]["ports"]
