"""The one broker factory every service uses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from s8_shared.contracts.envelope import load_json_object
from s8_shared.kafka.batches import lenient_batch_parser, whole_message
from s8_shared.kafka.deadletter import DeadLetterPolicy
from s8_shared.settings import ServiceSettings
from s8_shared.topics import TopicSpec


def kafka_security(settings: ServiceSettings) -> BaseSecurity | None:
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    use_ssl = protocol.endswith("SSL")
    if protocol == "SSL":
        return BaseSecurity(ssl_context=settings.kafka_ssl_context(), use_ssl=True)
    user = settings.kafka_sasl_username or ""  # presence checked by the settings
    password = (
        settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    )
    sasl_cls = {
        "PLAIN": SASLPlaintext,
        "SCRAM-SHA-256": SASLScram256,
        "SCRAM-SHA-512": SASLScram512,
    }[settings.kafka_sasl_mechanism or "PLAIN"]
    return sasl_cls(
        username=user,
        password=password,
        use_ssl=use_ssl,
        ssl_context=settings.kafka_ssl_context() if use_ssl else None,
    )


def make_broker(
    settings: ServiceSettings,
    *,
    registry: CollectorRegistry,
    tracer_provider: TracerProvider,
    dead_letters: DeadLetterPolicy,
) -> KafkaBroker:
    """Idempotent producer (acks=all); metrics, tracing and dead letters as middleware.

    Middleware order matters: Prometheus outermost, then the tracing span, then the
    dead-letter middleware, so the dead-letter publish happens inside the span.
    """
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        enable_idempotence=True,
        # Topics are s8's to provision (S8_PROVISION_TOPICS, the chart's Job), with their
        # partitions and retention; a service's Kafka user may not create any.
        allow_auto_create_topics=False,
        max_request_size=settings.kafka_max_request_bytes,
        security=kafka_security(settings),
        graceful_timeout=15.0,
        # FastStream's "Received"/"Processed" lines per message: debug, not the service's log.
        log_level=logging.DEBUG,
        middlewares=(
            KafkaPrometheusMiddleware(registry=registry, app_name=settings.service_name),
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            dead_letters.middleware,
        ),
    )


Handler = Callable[..., Awaitable[None]]
BATCH_POLL_MS = 50
LINGER_MIN_BYTES = 64 * 1024


def subscribe(
    broker: KafkaBroker,
    settings: ServiceSettings,
    spec: TopicSpec,
    purpose: str = "",
    *,
    typed: bool = False,
    batch: bool = False,
    linger: bool = False,
) -> Callable[[Handler], Any]:
    """A subscriber in the service's own consumer group for that topic (one group per topic,
    so a service reading several topics never rebalances them against each other), reading
    from the start, committing only after the handler succeeded (a failure seeks back and
    redelivers). Acknowledged manually: the dead-letter middleware settles every record and
    `OffsetCommits` commits them in batches (FastStream would commit once per message).

    Handlers take the record's bytes (`body: bytes`) and decode them with s8's contracts;
    with `typed`, a handler takes one plain model as its parameter, which FastStream
    validates from the JSON object s8's bounded decoding (`load_json_object`) made. FastStream's
    own decoder would parse unbounded JSON (and a second time), and its message injection
    costs a worker thread per record.

    With `batch`, the handler takes the message of a whole batch (`s8_shared.kafka.batches`);
    with `linger` too, the broker holds each fetch until LINGER_MIN_BYTES of records are there
    or `kafka_linger_ms` passed, so that consumers whose effects may wait a little (counts,
    surveys) get batches of several events even when the producer is slow."""
    if batch:
        batched: Callable[[Handler], Any] = broker.subscriber(
            spec.name(settings.topic_namespace),
            group_id=settings.consumer_group(f".{spec.short_name}{purpose}"),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            batch=True,
            max_records=settings.kafka_batch_max_records,
            # An empty poll sleeps this long again in FastStream: short, for latency.
            batch_timeout_ms=BATCH_POLL_MS,
            fetch_min_bytes=LINGER_MIN_BYTES if linger else 1,
            fetch_max_wait_ms=settings.kafka_linger_ms if linger else 500,
            parser=lenient_batch_parser,
            decoder=whole_message,
            max_workers=min(settings.kafka_consumers_per_topic, spec.partitions),
        )
        return batched
    subscriber: Callable[[Handler], Any] = broker.subscriber(
        spec.name(settings.topic_namespace),
        group_id=settings.consumer_group(f".{spec.short_name}{purpose}"),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=_json_object if typed else _raw_body,
        # Above 1: FastStream's consumers-per-partition-share subscriber (order kept per partition).
        max_workers=min(settings.kafka_consumers_per_topic, spec.partitions),
    )
    return subscriber


async def _json_object(msg: Any) -> dict[str, Any]:
    """The record's value as a JSON object, or InvalidMessage (a dead letter at once)."""
    return load_json_object(msg.body)


async def _raw_body(msg: Any) -> bytes:
    """The record's value as it came: what a handler's `body: bytes` receives."""
    body: bytes = msg.body
    return body
