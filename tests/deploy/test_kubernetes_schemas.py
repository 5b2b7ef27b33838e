"""Every rendered manifest is what the Kubernetes API and the Strimzi operator accept.

Kubernetes kinds are checked strictly (unknown fields refused) with kubernetes-validate,
whose JSON schemas ship inside the wheel; Strimzi kinds against the schemas in
tests/deploy/strimzi/ (see its README for where they come from).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.manifests import HERE, KUBERNETES, Doc, kustomizations, named, production, render

# An older release still found in managed clusters, and the newest the validator knows: a
# manifest must be valid on both.
KUBERNETES_VERSIONS = ("1.32.0", kubernetes_validate.utils.latest_version())
STRIMZI_GROUP = "kafka.strimzi.io"
STRIMZI_SCHEMAS = HERE / "strimzi"

FOLDERS = kustomizations()


def folder_id(folder: Path) -> str:
    return str(folder.relative_to(KUBERNETES))


def is_strimzi(doc: Doc) -> bool:
    return str(doc["apiVersion"]).startswith(f"{STRIMZI_GROUP}/")


def strimzi_schema(doc: Doc) -> Doc:
    version = str(doc["apiVersion"]).split("/", 1)[1]
    path = STRIMZI_SCHEMAS / f"{doc['kind'].lower()}-{version}.json"
    assert path.exists(), f"no schema for {doc['kind']} {doc['apiVersion']} in {STRIMZI_SCHEMAS}"
    schema: Doc = json.loads(path.read_text())
    return schema


def test_there_is_a_base_per_concern_and_a_production_overlay():
    assert {folder_id(f) for f in FOLDERS} == {
        "base/closeloop",
        "base/kafka",
        "base/temporal",
        "base/monitoring",
        "overlays/production",
    }


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("folder", FOLDERS, ids=folder_id)
def test_every_kubernetes_resource_is_strictly_valid(folder: Path, version: str):
    docs = render(folder)
    assert docs, f"{folder} renders nothing"
    for doc in docs:
        if is_strimzi(doc):
            continue
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            pytest.fail(f"{folder_id(folder)}: {where}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            pytest.fail(f"{folder_id(folder)}: {where}: {error.message}")


@pytest.mark.parametrize("folder", FOLDERS, ids=folder_id)
def test_every_strimzi_resource_matches_its_schema(folder: Path):
    for doc in (d for d in render(folder) if is_strimzi(d)):
        schema = strimzi_schema(doc)
        jsonschema.Draft202012Validator.check_schema(schema)
        errors = sorted(
            jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: e.json_path
        )
        assert not errors, [
            f"{doc['kind']}/{doc['metadata']['name']}: {e.json_path}: {e.message}" for e in errors
        ]


def test_the_kubernetes_validator_refuses_a_misspelt_field():
    worker = copy.deepcopy(named(production(), "Deployment", "closeloop-worker"))
    worker["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize(
    ("kind", "name", "path", "typo"),
    [
        ("Kafka", "closeloop", ("spec", "kafka"), "listener"),
        ("KafkaNodePool", "broker", ("spec",), "replica"),
        ("KafkaTopic", "complaints.dlq.v1", ("spec",), "partition"),
    ],
)
def test_the_strimzi_schemas_refuse_a_misspelt_field(kind, name, path, typo):
    doc = copy.deepcopy(named(production(), kind, name))
    target = doc
    for key in path:
        target = target[key]
    target[typo] = 1
    assert list(jsonschema.Draft202012Validator(strimzi_schema(doc)).iter_errors(doc))
