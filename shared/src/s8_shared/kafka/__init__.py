"""Kafka plumbing shared by the services: broker factory, publishing, dead letters, topics."""

from s8_shared.kafka.broker import make_broker, subscribe
from s8_shared.kafka.deadletter import DeadLetterPolicy
from s8_shared.kafka.publisher import EventPublisher

__all__ = ["DeadLetterPolicy", "EventPublisher", "make_broker", "subscribe"]
