"""Temporal is reachable only by Closeloop's clients, and knows Closeloop's search attributes."""

from __future__ import annotations

from temporalio.common import SearchAttributeIndexedValueType as Indexed

from schemas import search_attributes
from tests.deploy.manifests import Doc, containers, named, production, workloads

TEMPORAL_CLIENT = {"closeloop.io/temporal-client": "true"}
CLOSELOOP_NS = {"kubernetes.io/metadata.name": "closeloop"}
TEMPORAL_PODS = {"app.kubernetes.io/name": "temporal"}
# `temporal operator search-attribute create --type` spelling of each indexed type.
CLI_TYPES = {
    Indexed.TEXT: "Text",
    Indexed.KEYWORD: "Keyword",
    Indexed.INT: "Int",
    Indexed.DOUBLE: "Double",
    Indexed.BOOL: "Bool",
    Indexed.DATETIME: "Datetime",
    Indexed.KEYWORD_LIST: "KeywordList",
}


def config() -> dict[str, str]:
    data: dict[str, str] = named(production(), "ConfigMap", "closeloop")["data"]
    return data


def pod_labels(workload: Doc) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"].get("labels", {})
    return labels


def test_the_frontend_admits_closeloop_clients_and_temporal_itself_only():
    policy = named(production(), "NetworkPolicy", "temporal-frontend")
    assert policy["metadata"]["namespace"] == "temporal"
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "frontend"
    grpc = [rule for rule in policy["spec"]["ingress"] if {"port": 7233} in rule["ports"]]
    assert len(grpc) == 1
    assert grpc[0]["from"] == [
        {
            "namespaceSelector": {"matchLabels": CLOSELOOP_NS},
            "podSelector": {"matchLabels": TEMPORAL_CLIENT},
        },
        {"podSelector": {"matchLabels": TEMPORAL_PODS}},
    ]


def test_exactly_the_worker_stream_console_and_setup_pods_are_temporal_clients():
    clients = {
        w["metadata"]["name"]
        for w in workloads(production())
        if w["metadata"]["namespace"] == "closeloop"
        and TEMPORAL_CLIENT.items() <= pod_labels(w).items()
    }
    assert clients == {
        "closeloop-worker",
        "closeloop-stream",
        "closeloop-console",
        "closeloop-search-attributes",
    }


def test_the_job_registers_every_search_attribute_with_its_type_on_our_namespace():
    job = named(production(), "Job", "closeloop-search-attributes")
    (register,) = containers(job)
    env = {e["name"]: e["value"] for e in register["env"]}
    pairs = dict(pair.split("=", 1) for pair in env["SEARCH_ATTRIBUTES"].split())
    assert pairs == {key.name: CLI_TYPES[key.indexed_value_type] for key in search_attributes.ALL}
    assert env["NAMESPACE"] == config()["CLOSELOOP_TEMPORAL_NAMESPACE"]
    assert env["TEMPORAL_ADDRESS"] == config()["CLOSELOOP_TEMPORAL_ADDRESS"]
    assert "temporal operator search-attribute create" in register["args"][0]
