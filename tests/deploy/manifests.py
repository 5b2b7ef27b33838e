"""What the deployment tests read: rendered kustomizations, containers, settings classes.

Everything here is offline: `kubectl kustomize` renders without a cluster, the settings
classes are found by importing the modules that define them.
"""

from __future__ import annotations

import functools
import importlib
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
PRODUCTION = KUBERNETES / "overlays" / "production"
HERE = Path(__file__).resolve().parent

Doc = dict[str, Any]

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def kustomizations() -> list[Path]:
    """Every folder under deploy/kubernetes that kustomize can build."""
    return sorted(p.parent for p in KUBERNETES.rglob("kustomization.yaml"))


@functools.cache
def render(folder: Path) -> tuple[Doc, ...]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to render the manifests (install it: README, Production)"
    result = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"kubectl kustomize {folder}: {result.stderr}"
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def production() -> tuple[Doc, ...]:
    return render(PRODUCTION)


def named(docs: tuple[Doc, ...], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Doc) -> list[Doc]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def workloads(docs: tuple[Doc, ...]) -> Iterator[Doc]:
    return (d for d in docs if d["kind"] in WORKLOAD_KINDS)


def is_closeloop_image(container: Doc) -> bool:
    """Our image, whatever registry and tag an overlay gives it."""
    image: str = container["image"]
    return image.rsplit("/", 1)[-1].split(":", 1)[0] == "closeloop"


def closeloop_containers(docs: tuple[Doc, ...]) -> Iterator[tuple[Doc, Doc]]:
    for workload in workloads(docs):
        for container in containers(workload):
            if is_closeloop_image(container):
                yield workload, container


def environment(docs: tuple[Doc, ...], workload: Doc, container: Doc) -> dict[str, Any]:
    """Name -> value (a string, or the `valueFrom` mapping) as the container will see it."""
    namespace = workload["metadata"].get("namespace")
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        assert ref, f"{container['name']}: only ConfigMaps are read whole, Secrets by key"
        config_map = [
            d
            for d in docs
            if d["kind"] == "ConfigMap"
            and d["metadata"]["name"] == ref["name"]
            and d["metadata"].get("namespace") == namespace
        ]
        assert config_map, f"{container['name']}: ConfigMap {ref['name']} is not in the manifests"
        env.update(config_map[0].get("data", {}))
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", item.get("valueFrom"))
    return env


# --- the settings the code reads ------------------------------------------------------------


def our_packages() -> list[str]:
    """Top-level packages of the project: those pyproject.toml ships, and any new one."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = {p.rstrip("*") for p in patterns}
    present = {p.parent.name for p in REPO.glob("*/__init__.py")}
    return sorted(shipped | (present - {"tests", "bench"}))


def settings_classes() -> list[type[BaseSettings]]:
    """Every pydantic-settings class defined in the project, found by importing its module."""
    packages = our_packages()
    for package in packages:
        root = REPO / package
        for path in sorted(root.rglob("*.py")) if root.is_dir() else []:
            source = path.read_text()
            if "BaseSettings" not in source:  # cheap filter: import only what may define one
                continue
            module = ".".join(path.relative_to(REPO).with_suffix("").parts)
            importlib.import_module(module.removesuffix(".__init__"))
    found: list[type[BaseSettings]] = []
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".", 1)[0] in packages:
            found.append(cls)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def env_names(cls: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (prefix + field name, or its alias)."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias or field.alias
        names.add(str(alias).upper() if isinstance(alias, str) else f"{prefix}{field_name}".upper())
    return names


def read_by_code() -> set[str]:
    return set().union(*(env_names(cls) for cls in settings_classes()))
