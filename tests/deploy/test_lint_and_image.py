"""All deployment YAML passes yamllint; the image builds the project as a wheel, non-root."""

from __future__ import annotations

import re
import tomllib

from yamllint import linter
from yamllint.config import YamlLintConfig

from tests.deploy.manifests import DEPLOY, HERE, REPO, our_packages

CONFIG = DEPLOY / ".yamllint.yaml"


def yaml_files() -> list:
    return sorted(
        p
        for folder in (DEPLOY, HERE)
        for pattern in ("*.yaml", "*.yml", ".*.yaml")
        for p in folder.rglob(pattern)
    )


def test_every_yaml_file_passes_yamllint():
    config = YamlLintConfig(file=str(CONFIG))
    files = yaml_files()
    assert len(files) > 10
    problems = [
        f"{path.relative_to(REPO)}:{p.line}:{p.column}: {p.message} ({p.rule})"
        for path in files
        for p in linter.run(path.read_text(), config, str(path))
    ]
    assert problems == []


def test_yamllint_with_our_config_catches_a_duplicate_key_and_a_yes():
    config = YamlLintConfig(file=str(CONFIG))
    rules = {p.rule for p in linter.run("a: 1\na: 2\nb: yes\n", config)}
    assert {"key-duplicates", "truthy"} <= rules


def test_the_image_builds_the_project_as_a_wheel_and_runs_as_a_numeric_non_root_user():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "pip wheel" in dockerfile and "COPY . ." in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"
    assert 'ENTRYPOINT ["closeloop"]' in dockerfile


def test_the_build_context_keeps_every_package_of_the_wheel():
    ignored = {
        line.strip().strip("/")
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    needed = {*our_packages(), "pyproject.toml", pyproject["project"]["readme"]}
    assert not needed & ignored
    assert {".git", "**/.venv", ".closeloop", "**/*.pem"} <= ignored
