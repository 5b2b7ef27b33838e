"""The local stack: Temporal dev server, Tansu, worker and stream processor, supervised.

Test fixtures start real servers on free ports with the same functions the launcher uses::

    settings = Settings(home=tmp, temporal_address=f"127.0.0.1:{free_temporal_port()}",
                        kafka_bootstrap=f"127.0.0.1:{free_port()}")
    temporal = start_temporal(settings, tmp / "temporal.log")
    broker = start_broker(settings, tmp / "broker.log")
    wait_for_temporal(settings.temporal_address, process=temporal)
    register_search_attributes(settings)
    wait_for_broker(settings.kafka_bootstrap, process=broker)
    create_topics(settings.kafka_bootstrap)
    ...
    broker.stop(); temporal.stop()
"""

from closeloop.stack.launcher import start_stack, up
from closeloop.stack.layout import PARTS, StackLayout
from closeloop.stack.processes import ManagedProcess, free_port, port_free, spawn
from closeloop.stack.readiness import StackError
from closeloop.stack.running import Stack
from closeloop.stack.services import (
    broker_healthy,
    broker_topics,
    create_topics,
    free_temporal_port,
    register_search_attributes,
    start_broker,
    start_temporal,
    temporal_bin,
    temporal_healthy,
    wait_for_broker,
    wait_for_temporal,
)
from closeloop.stack.shutdown import down
from closeloop.stack.status import PartStatus, status

__all__ = [
    "PARTS",
    "ManagedProcess",
    "PartStatus",
    "Stack",
    "StackError",
    "StackLayout",
    "broker_healthy",
    "broker_topics",
    "create_topics",
    "down",
    "free_port",
    "free_temporal_port",
    "port_free",
    "register_search_attributes",
    "spawn",
    "start_broker",
    "start_stack",
    "start_temporal",
    "status",
    "temporal_bin",
    "temporal_healthy",
    "up",
    "wait_for_broker",
    "wait_for_temporal",
]
