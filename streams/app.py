"""The faust application: one consumer group for all of Closeloop's input topics."""

from __future__ import annotations

import faust

from base.settings import Settings
from streams.faust_fixes import exclude_fetched_message_from_gap


def create_app(settings: Settings) -> faust.App:
    """A faust app tuned for commit-after-accept on a small broker.

    - topics are created by the launcher or by operations, never implicitly by consumers;
    - no leader topic and in-memory tables: faust keeps no state of its own;
    - session and rebalance timeouts short enough that a restarted processor rejoins quickly.
    """
    exclude_fetched_message_from_gap()
    host, port = settings.kafka_host_port
    return faust.App(
        settings.stream_app_id,
        broker=f"kafka://{host}:{port}",
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=20.0,
        broker_commit_every=100,
        broker_commit_interval=1.0,
        stream_wait_empty=False,
        producer_acks=-1,
        datadir=str(settings.home_dir / "faust"),
    )
