"""Kafka runs in KRaft mode under Strimzi and has exactly the topics of the contract."""

from __future__ import annotations

from schemas.topics import ALL_TOPICS, COMPLAINTS_DLQ
from tests.deploy.manifests import Doc, named, production

DAY_MS = 24 * 3600 * 1000
INPUT_TOPICS = {"complaints.received.v1", "complaints.updates.v1"}


def kafka_topics() -> dict[str, Doc]:
    return {d["spec"]["topicName"]: d for d in production() if d["kind"] == "KafkaTopic"}


def retention_ms(topic: Doc) -> int:
    value = int(topic["spec"]["config"]["retention.ms"])
    return value if value >= 0 else 2**63 - 1  # -1: kept forever


def test_kafka_runs_in_kraft_mode_on_controller_and_broker_pools():
    kafka = named(production(), "Kafka", "closeloop")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert kafka["metadata"]["annotations"]["strimzi.io/node-pools"] == "enabled"
    assert "zookeeper" not in kafka["spec"]
    pools = [d for d in production() if d["kind"] == "KafkaNodePool"]
    assert {d["metadata"]["labels"]["strimzi.io/cluster"] for d in pools} == {"closeloop"}
    roles = {role: 0 for role in ("controller", "broker")}
    for pool in pools:
        for role in pool["spec"]["roles"]:
            roles[role] += pool["spec"]["replicas"]
    assert roles["controller"] % 2 == 1 and roles["controller"] >= 3, "a KRaft quorum of 3 or 5"
    assert roles["broker"] >= 3
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False


def test_every_topic_of_the_contract_is_a_kafka_topic_with_its_partitions():
    topics = kafka_topics()
    assert set(topics) == {spec.name for spec in ALL_TOPICS}
    for spec in ALL_TOPICS:
        topic = topics[spec.name]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "closeloop"
        assert topic["spec"]["partitions"] == spec.partitions, spec.name
        assert topic["spec"]["replicas"] >= 3, spec.name
        min_isr = int(topic["spec"]["config"]["min.insync.replicas"])
        assert 2 <= min_isr < topic["spec"]["replicas"], "survives the loss of one broker"


def test_dead_letters_are_kept_longer_than_the_events_they_came_from():
    topics = kafka_topics()
    dlq = retention_ms(topics[COMPLAINTS_DLQ])
    assert dlq >= 90 * DAY_MS
    assert all(dlq > retention_ms(topics[name]) for name in INPUT_TOPICS)


def test_only_closeloop_clients_reach_the_plain_listener():
    kafka = named(production(), "Kafka", "closeloop")
    plain = next(x for x in kafka["spec"]["kafka"]["listeners"] if not x["tls"])
    assert plain["networkPolicyPeers"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "closeloop"}},
            "podSelector": {"matchLabels": {"closeloop.io/kafka-client": "true"}},
        }
    ]
