"""The manifests and the code agree on configuration, in both directions.

Every environment variable a pydantic-settings class of the project reads is set in the
manifests, and every CLOSELOOP_* the manifests set is one the code reads: a renamed or new
setting cannot leave production silently on a default, or pointing at nothing.
"""

from __future__ import annotations

import pytest
import yaml

from base.settings import Settings
from streams.config import StreamSettings
from tests.deploy.manifests import (
    DEPLOY,
    closeloop_containers,
    env_names,
    environment,
    named,
    production,
    read_by_code,
    settings_classes,
)

LONG_RUNNING = ("closeloop-worker", "closeloop-stream", "closeloop-console")
# Secrets a process is deliberately not given (least privilege); the code's default stands
# and the process never uses it.
NO_MAIL = {"CLOSELOOP_SMTP_PASSWORD": "only `closeloop mailer` logs in to the SMTP server"}
NOT_GIVEN = {
    "closeloop-worker": NO_MAIL,
    "closeloop-stream": {
        "CLOSELOOP_DATABASE_URL": "the stream processor writes no audit entries",
        "CLOSELOOP_AUDIT_SIGNING_KEY": "only workers sign checkpoints",
        **NO_MAIL,
    },
    "closeloop-console": {"CLOSELOOP_AUDIT_SIGNING_KEY": "the console never signs", **NO_MAIL},
}
# What a secretKeyRef stands for when the settings are parsed here.
SECRET_STAND_INS = {
    "CLOSELOOP_DATABASE_URL": "postgresql://closeloop_writer:secret@db:5432/closeloop_audit",
    "CLOSELOOP_AUDIT_SIGNING_KEY": "-----BEGIN (stand-in for the Secret)-----",
}


def production_env(name: str) -> dict[str, object]:
    docs = production()
    deployment = named(docs, "Deployment", name)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return environment(docs, deployment, container)


def test_the_settings_classes_are_found_by_introspection():
    found = settings_classes()
    assert Settings in found and StreamSettings in found
    assert "CLOSELOOP_STREAM_LANES" in env_names(StreamSettings)


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_setting_the_code_reads_is_set_for_each_process(name):
    not_given = set(NOT_GIVEN.get(name, {}))
    missing = read_by_code() - set(production_env(name)) - not_given
    assert not missing, f"{name}: set these in deploy/kubernetes (ConfigMap closeloop): {missing}"
    for cls in settings_classes():
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field_name, field in cls.model_fields.items():
            if f"{prefix}{field_name}".upper() in not_given:
                assert not field.is_required(), f"{name} must be given {field_name}"


def test_every_closeloop_variable_in_the_manifests_is_one_the_code_reads():
    docs = production()
    known = read_by_code()
    for workload, container in closeloop_containers(docs):
        names = {n for n in environment(docs, workload, container) if n.startswith("CLOSELOOP_")}
        assert names <= known, f"{workload['metadata']['name']}: unknown {names - known}"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_the_values_set_are_valid_settings(name, monkeypatch):
    env = production_env(name)
    for key in read_by_code():
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        if key.startswith("CLOSELOOP_"):
            monkeypatch.setenv(key, value if isinstance(value, str) else SECRET_STAND_INS[key])
    for cls in settings_classes():
        cls()  # raises if a value is not one the code accepts
    settings = Settings()
    assert settings.temporal_address == env["CLOSELOOP_TEMPORAL_ADDRESS"]
    assert settings.log_format == "json"


def test_the_signing_key_and_the_database_come_from_secrets_where_they_are_used():
    worker = production_env("closeloop-worker")
    assert worker["CLOSELOOP_AUDIT_SIGNING_KEY"] == {
        "secretKeyRef": {"name": "closeloop-audit-signing-key", "key": "private-key.pem"}
    }
    assert "secretKeyRef" in worker["CLOSELOOP_DATABASE_URL"]  # type: ignore[operator]


def compose_environment() -> dict[str, dict[str, str]]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return {
        name: service.get("environment", {})
        for name, service in compose["services"].items()
        if service.get("build")
    }


def test_the_compose_stack_sets_only_settings_the_code_reads():
    known = read_by_code()
    for service, env in compose_environment().items():
        names = {n for n in env if n.startswith("CLOSELOOP_")}
        assert names <= known, f"compose {service}: unknown {names - known}"
        assert {"CLOSELOOP_TEMPORAL_ADDRESS", "CLOSELOOP_KAFKA_BOOTSTRAP"} <= names
