"""The survey application service with in-memory fakes of its ports (store, publisher,
clock): what is stored, what is published, and that a redelivered input has no second
effect. The real broker and store are in tests/test_survey_flows.py."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from s8_shared import topics
from s8_shared.contracts import TICKET_EVENTS, Event, TicketStatusChanged
from s8_shared.contracts.surveys import (
    SURVEY_EVENTS,
    SurveyAnswerPayload,
    SurveyAnswerSubmitted,
    SurveyRequested,
)
from s8_shared.contracts.tickets import TicketStatusChangedPayload
from s8_shared.data_files import load_model
from s8_shared.handling import EventApplier, EventStats
from s8_shared.mongo import ProcessedEvents
from s8_shared.nlp import sentiment
from s8_shared.topics import TopicSpec
from s8_survey.adapters.handlers import SurveyConsumers
from s8_survey.adapters.memory_store import InMemorySurveyStore
from s8_survey.catalogue import load_catalogues
from s8_survey.domain.rules import AnswerRefused, SurveyPolicy
from s8_survey.domain.tokens import verify
from s8_survey.metrics import SurveyMetrics
from s8_survey.service import SurveyNotFound, SurveyService
from s8_testing.builders import T0, make_snapshot, make_ticket_created
from s8_testing.fakes import RecordingPublisher

KEY = b"k" * 32
LEXICON = load_model(sentiment.DEFAULT_LEXICON_PATH, sentiment.Lexicon)
CATALOGUES = load_catalogues()
OUTBOUND, SURVEYS = topics.OUTBOUND.base_name, topics.SURVEYS.base_name


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


class StoringFirstPublisher(RecordingPublisher):
    """Records, for each published event, whether the survey's outbox held it then: the
    change and its events are stored before anything is published."""

    def __init__(self, store: InMemorySurveyStore) -> None:
        super().__init__()
        self.store = store
        self.stored_first: list[bool] = []

    async def publish(self, spec: TopicSpec, event: Event[Any]) -> None:
        held = {
            item["event_id"]
            for doc in self.store.surveys.values()
            for item in doc.get("outbox", [])
        }
        self.stored_first.append(str(event.event_id) in held)
        await super().publish(spec, event)


class MemoryProcessed(ProcessedEvents):
    """Event ids applied, in memory (the real one is a collection)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def seen(self, event_id: object) -> bool:
        return str(event_id) in self.ids

    async def remember(self, event_id: object, **details: Any) -> bool:
        first = str(event_id) not in self.ids
        self.ids.add(str(event_id))
        return first


@dataclass
class World:
    store: InMemorySurveyStore = field(default_factory=InMemorySurveyStore)
    clock: Clock = field(default_factory=Clock)
    policy: SurveyPolicy = field(default_factory=SurveyPolicy)
    publisher: StoringFirstPublisher = field(init=False)
    service: SurveyService = field(init=False)

    def __post_init__(self) -> None:
        self.publisher = StoringFirstPublisher(self.store)
        self.service = SurveyService(
            store=self.store,
            publisher=self.publisher,
            policy=self.policy,
            hmac_key=KEY,
            base_url="https://survey.example.vn/",
            metrics=SurveyMetrics(CollectorRegistry()),
            catalogues=CATALOGUES,
            lexicon=LEXICON,
            clock=self.clock,
        )

    def types(self, topic: str) -> list[str]:
        return [e.type for e in self.publisher.on(topic)]


def solved(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "status": "solved",
        "agent_replies": 1,
        "contact_channel": "email",
        "contact": "lan.nguyen@example.vn",
        **overrides,
    }
    return make_snapshot(**fields)


async def sent_csat(world: World) -> dict[str, Any]:
    """A solved ticket's CSAT survey, sent."""
    await world.service.on_ticket(solved())
    world.clock.advance(world.policy.csat_delay)
    await world.service.send_due()
    [doc] = [d for d in world.store.surveys.values() if d["kind"] == "csat"]
    world.publisher.sent.clear()
    world.publisher.stored_first.clear()
    return doc


async def test_a_solved_ticket_schedules_a_csat_and_an_nps_survey_sent_after_the_delay() -> None:
    world = World()
    await world.service.on_ticket(solved())
    assert sorted(d["kind"] for d in world.store.surveys.values()) == ["csat", "nps"]
    assert {d["state"] for d in world.store.surveys.values()} == {"scheduled"}
    assert await world.service.send_due() == 0  # not due before the delay
    world.clock.advance(world.policy.csat_delay)
    assert await world.service.send_due() == 2


async def test_an_invitation_is_stored_with_its_outbox_then_published_and_removed_from_it() -> None:
    world = World()
    await world.service.on_ticket(solved(ticket_id="T-9"))
    world.clock.advance(world.policy.csat_delay)
    await world.service.send_due()

    assert world.types(OUTBOUND) == ["outbound.message_requested"] * 2
    assert world.types(SURVEYS) == ["survey.requested"] * 2
    assert world.publisher.stored_first == [True] * 4
    assert all(d["state"] == "sent" and not d["has_outbox"] for d in world.store.surveys.values())
    [csat] = [e for e in world.publisher.on(SURVEYS) if e.payload.kind == "csat"]
    assert isinstance(csat, SurveyRequested)
    token = csat.payload.link.removeprefix("https://survey.example.vn/s/")
    assert verify(token, KEY, world.clock.now).survey_id == csat.payload.survey_id
    [message] = [e for e in world.publisher.on(OUTBOUND) if e.payload.outbound_id == csat.payload.survey_id]  # fmt: skip
    assert message.payload.subject == "Khảo sát hài lòng"
    assert "[#T-9]" in message.payload.text
    assert csat.payload.link in message.payload.text


async def test_an_invitation_in_english_uses_the_english_catalogue() -> None:
    world = World()
    await world.service.on_ticket(solved(language="en"))
    world.clock.advance(world.policy.csat_delay)
    await world.service.send_due()
    subjects = {e.payload.subject for e in world.publisher.on(OUTBOUND)}
    assert subjects == {"How did we do?"}


async def test_a_broker_error_leaves_the_invitation_in_the_outbox_for_the_sweeper() -> None:
    world = World()
    await world.service.on_ticket(solved())
    world.clock.advance(world.policy.csat_delay)
    world.publisher.fail_next = ConnectionError("broker unreachable")
    await world.service.send_due()
    kept = [d for d in world.store.surveys.values() if d["has_outbox"]]
    assert len(kept) == 1
    assert kept[0]["state"] == "sent"

    assert await world.service.sweep_outboxes() == 2
    assert not any(d["has_outbox"] for d in world.store.surveys.values())
    assert sorted(world.types(SURVEYS)) == ["survey.requested"] * 2
    assert len(world.types(OUTBOUND)) == 2


async def test_an_unhappy_answer_is_stored_once_and_publishes_responded_and_a_followup() -> None:
    world = World()
    doc = await sent_csat(world)
    world.clock.advance(timedelta(hours=1))

    stored = await world.service.answer(doc["_id"], 2, "  Chờ lâu quá  ")

    assert (stored["state"], stored["score"], stored["revision"]) == ("answered", 2, 1)
    assert stored["comment"] == "Chờ lâu quá"
    assert stored["comment_sentiment"] < 0
    assert stored["answered_at"] == world.clock.now
    assert world.types(SURVEYS) == ["survey.responded", "survey.followup_requested"]
    assert world.publisher.stored_first == [True, True]
    assert not world.store.surveys[doc["_id"]]["has_outbox"]
    [responded, followup] = world.publisher.on(SURVEYS)
    assert (responded.payload.score, responded.payload.ticket_id) == (2, "T-1")
    assert followup.payload.score == 2


async def test_a_happy_answer_publishes_no_followup() -> None:
    world = World()
    doc = await sent_csat(world)
    await world.service.answer(doc["_id"], 5, None)
    assert world.types(SURVEYS) == ["survey.responded"]


async def test_an_answer_after_the_grace_period_is_refused_and_publishes_nothing() -> None:
    world = World()
    doc = await sent_csat(world)
    await world.service.answer(doc["_id"], 4, None)
    world.publisher.sent.clear()
    world.clock.advance(world.policy.answer_grace + timedelta(seconds=1))
    with pytest.raises(AnswerRefused, match="already answered"):
        await world.service.answer(doc["_id"], 1, None)
    assert world.publisher.sent == []
    assert world.store.surveys[doc["_id"]]["score"] == 4


async def test_answers_to_unknown_unsent_or_out_of_range_surveys_are_refused() -> None:
    world = World()
    with pytest.raises(SurveyNotFound):
        await world.service.answer("S-none", 4, None)
    await world.service.on_ticket(solved())
    [scheduled] = [d for d in world.store.surveys.values() if d["kind"] == "csat"]
    with pytest.raises(AnswerRefused, match="not been sent"):
        await world.service.answer(scheduled["_id"], 4, None)
    world.clock.advance(world.policy.csat_delay)
    await world.service.send_due()
    with pytest.raises(AnswerRefused, match=r"1\.\.5"):
        await world.service.answer(scheduled["_id"], 9, None)
    assert world.types(SURVEYS) == ["survey.requested"] * 2


async def test_a_redelivered_solved_ticket_plans_and_sends_its_surveys_once() -> None:
    world = World()
    snapshot = solved()
    await world.service.on_ticket(snapshot)
    await world.service.on_ticket(snapshot)
    world.clock.advance(world.policy.csat_delay)
    await world.service.send_due()
    await world.service.on_ticket(snapshot)
    await world.service.send_due()
    assert len(world.store.surveys) == 2
    assert world.types(SURVEYS) == ["survey.requested"] * 2
    assert len(world.types(OUTBOUND)) == 2


def appliers(world: World) -> tuple[EventApplier, EventApplier, SurveyConsumers]:
    processed, stats = MemoryProcessed(), EventStats("s8-survey", CollectorRegistry())
    tickets = EventApplier(TICKET_EVENTS, processed, stats, topics.TICKETS.name())
    surveys = EventApplier(SURVEY_EVENTS, processed, stats, topics.SURVEYS.name())
    return tickets, surveys, SurveyConsumers(world.service)


async def test_a_redelivered_answer_event_is_applied_once_even_within_the_grace_period() -> None:
    world = World()
    doc = await sent_csat(world)
    _, surveys, consumers = appliers(world)
    answer = SurveyAnswerSubmitted(
        producer="chat-widget",
        occurred_at=world.clock.now,
        payload=SurveyAnswerPayload(survey_id=doc["_id"], score=4, channel="live_chat"),
    )
    await surveys(answer.to_bytes(), consumers.on_survey_event)
    await surveys(answer.to_bytes(), consumers.on_survey_event)  # redelivered
    assert world.store.surveys[doc["_id"]]["revision"] == 1
    assert world.types(SURVEYS) == ["survey.responded"]


async def test_consumers_dispatch_on_event_classes() -> None:
    world = World()
    tickets, surveys, consumers = appliers(world)
    changed = TicketStatusChanged(
        producer="s8-test",
        occurred_at=T0,
        payload=TicketStatusChangedPayload.model_validate(
            {"ticket_id": "T-1", "ticket": solved(), "from_status": "open", "to_status": "solved"}
        ),
    )
    await tickets(changed.to_bytes(), consumers.on_ticket_event)
    assert len(world.store.surveys) == 2
    world.clock.advance(world.policy.csat_delay)
    await world.service.send_due()
    # The survey's own events on its topic are outputs, not inputs: nothing happens.
    for event in list(world.publisher.on(SURVEYS)):
        await surveys(event.to_bytes(), consumers.on_survey_event)
    assert {d["state"] for d in world.store.surveys.values()} == {"sent"}
    # A ticket that is not solved plans nothing.
    await tickets(make_ticket_created(ticket_id="T-2").to_bytes(), consumers.on_ticket_event)
    assert len(world.store.surveys) == 2


async def test_every_ticket_event_type_carries_its_ticket_to_planning() -> None:
    # A ticket event type added to the family but not to the consumer's match would be
    # skipped silently: each type is built around a solved ticket and must plan its CSAT.
    world = World()
    consumers = SurveyConsumers(world.service)
    for n, (type_name, cls) in enumerate(TICKET_EVENTS.types.items()):
        snapshot = solved(ticket_id=f"T-{n}", customer_id=f"C-{n}")
        event = cls.model_construct(
            type=type_name, producer="s8-test", payload=SimpleNamespace(ticket=snapshot)
        )
        await consumers.on_ticket_event(event)
    planned = {d["ticket_id"] for d in world.store.surveys.values() if d["kind"] == "csat"}
    assert planned == {f"T-{n}" for n in range(len(TICKET_EVENTS.types))}
