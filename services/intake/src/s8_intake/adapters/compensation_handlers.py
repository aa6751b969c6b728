"""Kafka handlers for compensation: intake keeps who each agent is (tier, lead)."""

from __future__ import annotations

from s8_intake.adapters.agent_directory import AgentDirectory
from s8_shared import topics
from s8_shared.contracts.agents import decode_profile
from s8_shared.kafka.message import KafkaMessage
from s8_shared.runtime import ServiceRuntime


def register_compensation_handlers(runtime: ServiceRuntime, directory: AgentDirectory) -> None:
    agents_topic = runtime.topic(topics.AGENTS)

    @runtime.subscriber(topics.AGENTS)
    async def on_agent(msg: KafkaMessage) -> None:
        """An agent's latest profile: their tier and whether they lead (compensation limits)."""
        if not msg.body:
            # A tombstone on the compacted topic: the agent is gone.
            key = getattr(msg.raw_message, "key", None)  # one record (not a batch) here
            if key:
                await directory.remove(key.decode())
            runtime.stats.count(agents_topic, "agent.profile", "removed")
            return
        profile = decode_profile(msg.body)
        applied = await directory.upsert(profile)
        runtime.stats.count(agents_topic, "agent.profile", "applied" if applied else "stale")
