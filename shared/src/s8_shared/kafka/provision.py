"""Create every topic in `s8_shared.topics` that does not exist yet.

Run as `python -m s8_shared.kafka.provision` (the Helm chart's Job runs the same).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from s8_shared.topics import ALL_TOPICS, TopicSpec

if TYPE_CHECKING:
    from s8_shared.settings import ServiceSettings

log = logging.getLogger("s8.provision")

TOPIC_ALREADY_EXISTS = 36  # Kafka protocol error code


def client_security(settings: ServiceSettings) -> dict[str, Any]:
    """The aiokafka client options for the cluster's security settings (the same settings
    the services' brokers use), so provisioning works against SASL/TLS clusters too."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol.endswith("SSL"):
        options["ssl_context"] = settings.kafka_ssl_context()
    if protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism or "PLAIN"
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = (
            settings.kafka_sasl_password.get_secret_value()
            if settings.kafka_sasl_password
            else None
        )
    return options


async def provision_topics(
    bootstrap_servers: str,
    *,
    namespace: str = "",
    replication_factor: int = 1,
    topics: tuple[TopicSpec, ...] = ALL_TOPICS,
    timeout_s: float = 60.0,
    max_partitions: int | None = None,
    client_options: dict[str, Any] | None = None,
) -> list[str]:
    """Creates missing topics; returns the names it created. Existing topics are kept."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="s8-provision", **(client_options or {})
    )
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_exponential(multiplier=0.2, max=3),
        retry=retry_if_exception_type(Exception),
        reraise=True,
    ):
        with attempt:
            await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=spec.name(namespace),
                num_partitions=min(spec.partitions, max_partitions or spec.partitions),
                replication_factor=replication_factor,
                topic_configs=spec.config(),
            )
            for spec in topics
            if spec.name(namespace) not in existing
        ]
        if not wanted:
            return []
        response = await admin.create_topics(wanted)
        created, failures = [], []
        for topic_error in response.topic_errors:
            name, code = topic_error[0], topic_error[1]
            message = topic_error[2] if len(topic_error) > 2 else None
            if code == 0:
                created.append(name)
            elif code != TOPIC_ALREADY_EXISTS:  # another replica created it first: fine
                failures.append(f"{name}: error {code} {message or ''}".strip())
        if failures:
            raise RuntimeError("could not create topics: " + "; ".join(failures))
        return created
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap-servers", default=None)
    parser.add_argument("--namespace", default=None)
    parser.add_argument(
        "--replication-factor", type=int, default=None, help="default: S8_KAFKA_REPLICATION_FACTOR"
    )
    args = parser.parse_args()

    from s8_shared.settings import ServiceSettings

    settings = ServiceSettings(service_name="s8-provision")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    created = asyncio.run(
        provision_topics(
            args.bootstrap_servers or settings.kafka_bootstrap_servers,
            namespace=settings.topic_namespace if args.namespace is None else args.namespace,
            replication_factor=args.replication_factor or settings.kafka_replication_factor,
            client_options=client_security(settings),
        )
    )
    for name in created:
        log.info("created topic %s", name)
    log.info("topics ready (%d created, %d declared)", len(created), len(ALL_TOPICS))
    sys.exit(0)


if __name__ == "__main__":
    main()


async def delete_namespace(bootstrap_servers: str, namespace: str) -> int:
    """Deletes every topic of a namespace (test runs clean up after themselves)."""
    if not namespace:
        raise ValueError("refusing to delete the topics of the empty namespace")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="s8-provision")
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(namespace)]
        if doomed:
            await admin.delete_topics(doomed)
        return len(doomed)
    finally:
        await admin.close()
