"""Intake's application services on in-memory fakes of their ports (`s8_testing.intake_fakes`):
what each stores and publishes, without a broker or store."""

import dataclasses
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from s8_intake.adapters.data_files import DEFAULT_ARTICLES_PATH, load_articles
from s8_intake.adapters.outbox import OutboxItem, outbox_item
from s8_intake.domain import problems as problem_domain
from s8_intake.domain.first_answer import IncidentMatch, SelfServiceData
from s8_intake.domain.model import Classification, NormalizedMessage
from s8_intake.domain.status import TransitionRefused
from s8_intake.domain.threading import ThreadingPolicy
from s8_intake.metrics import IntakeMetrics
from s8_intake.ports import TicketNotFound
from s8_intake.selfservice import SelfService, SelfServiceConfig
from s8_intake.service.accepting import Accepted, Accepting
from s8_intake.service.actions import Actions
from s8_intake.service.customers import CustomerDesk
from s8_intake.service.followups import FollowUps
from s8_intake.service.publishing import OutboxPublisher
from s8_intake.service.wiring import message_services
from s8_shared.contracts import (
    ACTION_ADAPTER,
    CustomerProfileUpsert,
    CustomerTier,
    InvalidMessage,
    Language,
    TicketAction,
    TicketSnapshot,
    TicketStatus,
    parse_inbound,
)
from s8_shared.contracts.actions import OfferCompensation
from s8_shared.contracts.problems import ProblemDeclaration
from s8_shared.contracts.surveys import SurveyFollowupPayload
from s8_shared.nlp.sentiment import Sentiment
from s8_testing.builders import T0, make_inbound, make_sms
from s8_testing.intake_fakes import (
    FakeCustomers,
    FakeMessages,
    FakeProblems,
    FakeTickets,
    RecordingBroker,
)

SELF_SERVICE = SelfService(SelfServiceConfig(), load_articles(DEFAULT_ARTICLES_PATH))


class CountingUnderstanding:
    """The real rules and lexicon, counting how often each is asked."""

    def __init__(self) -> None:
        self.threading_policy = ThreadingPolicy()
        self.calls: dict[str, int] = {"sentiment": 0, "classify": 0}

    def sentiment(self, text: str) -> Sentiment:
        self.calls["sentiment"] += 1
        return SELF_SERVICE.sentiment(text)

    def classify(
        self, msg: NormalizedMessage, tier: CustomerTier, mood: Sentiment
    ) -> Classification:
        self.calls["classify"] += 1
        return SELF_SERVICE.classify(msg, tier, mood)

    def answers(self) -> SelfServiceData:
        return SELF_SERVICE.answers()


class FakeCompensation:
    def __init__(self) -> None:
        self.offers: list[OfferCompensation] = []

    async def offer(self, action: OfferCompensation, ticket: TicketSnapshot) -> None:
        self.offers.append(action)


@dataclass
class Intake:
    """Every application service wired to the same fakes, as `app.py` wires the adapters."""

    accepting: Accepting
    actions: Actions
    followups: FollowUps
    customer_desk: CustomerDesk
    publishing: OutboxPublisher
    tickets: FakeTickets
    messages: FakeMessages
    customers: FakeCustomers
    broker: RecordingBroker
    understanding: CountingUnderstanding
    compensation: FakeCompensation

    async def post(self, **overrides: Any) -> Accepted:
        return await self.accepting.accept(parse_inbound(make_inbound(**overrides)))

    def created(self) -> list[Any]:
        return [e for e in self.published() if e.type == "ticket.created"]

    def published(self) -> list[Any]:
        events = [
            OutboxItem("", topic, "", body.decode()).event() for topic, body in self.broker.raw
        ]
        return [e for e in events if e is not None]


def make_intake(problems: FakeProblems | None = None) -> Intake:
    tickets, messages, customers = FakeTickets(), FakeMessages(), FakeCustomers()
    broker, understanding = RecordingBroker(), CountingUnderstanding()
    metrics = IntakeMetrics(CollectorRegistry())
    publishing = OutboxPublisher(publisher=broker, tickets=tickets, published=metrics.published)
    problems = problems or FakeProblems()
    compensation = FakeCompensation()
    wired = message_services(
        tickets=tickets,
        messages=messages,
        customers=customers,
        understanding=understanding,
        problems=problems,
        compensation=compensation,
        publishing=publishing,
        metrics=metrics,
        clock=lambda: T0,
    )
    return Intake(
        accepting=wired.accepting,
        actions=wired.actions,
        followups=wired.followups,
        customer_desk=wired.customers,
        publishing=publishing,
        tickets=tickets,
        messages=messages,
        customers=customers,
        broker=broker,
        understanding=understanding,
        compensation=compensation,
    )


def action(kind: str, ticket_id: str, **fields: Any) -> TicketAction:
    return ACTION_ADAPTER.validate_python(
        {"kind": kind, "action_id": f"a-{kind}", "ticket_id": ticket_id, "actor_id": "agent-7"}
        | fields
    )


# --- accepting messages ---------------------------------------------------------------
async def test_a_new_message_opens_a_ticket_stored_and_published_without_reading_it_back() -> None:
    intake = make_intake()
    accepted = await intake.post()
    assert accepted.outcome == "created"
    assert accepted.ticket_id is not None
    created = intake.created()
    assert [e.payload.ticket_id for e in created] == [accepted.ticket_id]
    # The final state is what ticket.created carries, and the outbox is empty again.
    stored = intake.tickets.states[accepted.ticket_id].snapshot
    assert created[0].payload.ticket == stored
    assert intake.tickets.outboxes[accepted.ticket_id] == []
    assert intake.messages.docs[f"email:{make_inbound()['channel_message_id']}"]["state"] == (
        "applied"
    )
    # One insert with its outbox, one removal after publishing: no load, no outbox read,
    # no claim stored before a new ticket.
    assert dict(intake.tickets.calls) == {"candidates": 1, "insert": 1, "remove_from_outbox": 1}
    # The message made its customer: no earlier delivery of it can have been recorded.
    assert dict(intake.messages.calls) == {"mark_applied": 1}


async def test_sentiment_classification_and_the_customer_are_worked_out_once_per_message() -> None:
    intake = make_intake()
    await intake.post()
    assert intake.understanding.calls == {"sentiment": 1, "classify": 1}
    assert intake.customers.calls["resolve"] == 1


async def test_the_same_message_twice_is_applied_and_published_once() -> None:
    intake = make_intake()
    first = await intake.post()
    published = len(intake.broker.raw)
    again = await intake.post()
    assert intake.messages.calls["get"] == 1  # the customer existed: the record is read
    assert (again.outcome, again.ticket_id) == ("duplicate", first.ticket_id)
    assert again.duplicate
    assert intake.tickets.calls["insert"] == 1
    assert len(intake.broker.raw) == published


async def test_a_message_redelivered_after_a_crash_stays_in_the_ticket_it_opened() -> None:
    """A crash after the message opened its ticket and before it was recorded as applied;
    meanwhile the first ticket was closed and a later message opened a newer one in the same
    conversation. The redelivered message must not be applied to that newer ticket too."""
    intake = make_intake()
    first = await intake.post(**make_sms(channel_message_id="sms-1"))
    assert first.outcome == "created"
    assert first.ticket_id is not None
    [opener_key] = intake.tickets.applied[first.ticket_id]
    del intake.messages.docs[opener_key]  # the crash: never recorded as applied
    state = intake.tickets.states[first.ticket_id]
    intake.tickets.states[first.ticket_id] = dataclasses.replace(
        state,
        snapshot=state.snapshot.model_copy(update={"status": TicketStatus.CLOSED}),
    )
    later = await intake.post(**make_sms(channel_message_id="sms-2", text="Tôi hỏi lại đơn A1023."))
    assert later.outcome == "created"
    assert later.ticket_id != first.ticket_id
    assert later.ticket_id is not None

    again = await intake.post(**make_sms(channel_message_id="sms-1"))

    assert (again.outcome, again.ticket_id) == ("duplicate", first.ticket_id)
    assert intake.tickets.applied[later.ticket_id] == ["sms:sms-2"]
    assert intake.tickets.states[later.ticket_id].snapshot.customer_messages == 1


async def test_a_reply_in_the_email_thread_joins_the_ticket() -> None:
    intake = make_intake()
    first = await intake.post()
    reply = await intake.post(
        channel_message_id="<m2@example.vn>",
        in_reply_to="<m1@example.vn>",
        references=["<m1@example.vn>"],
        text="Mình bổ sung ảnh chụp hóa đơn.",
    )
    assert (reply.outcome, reply.ticket_id) == ("joined", first.ticket_id)
    assert first.ticket_id is not None
    assert intake.tickets.states[first.ticket_id].snapshot.customer_messages == 2
    assert [e.type for e in intake.published()].count("ticket.message_added") == 1


async def test_a_faq_question_is_answered_and_ticket_created_already_says_so() -> None:
    intake = make_intake()
    accepted = await intake.post(subject="Đổi mật khẩu", text="Làm sao để đổi mật khẩu tài khoản?")
    created = intake.created()[0].payload.ticket
    assert created.deflected
    assert created == intake.tickets.states[accepted.ticket_id or ""].snapshot
    kinds = [e.payload.kind for e in intake.published() if e.type == "outbound.message_requested"]
    assert kinds == ["auto_reply_faq"]


async def test_a_message_about_a_known_problem_is_linked_in_ticket_created() -> None:
    problem = problem_domain.declare(
        ProblemDeclaration.model_validate(
            {
                "title": {"vi": "Cổng thanh toán gián đoạn", "en": "Payment gateway outage"},
                "description": {"vi": "Thanh toán thẻ lỗi.", "en": "Card payments fail."},
                "segment": {"regions": ["Hà Nội"]},
                "keywords": ["hoàn tiền"],
                "declared_by": "lead-1",
            }
        ),
        "P-1",
        T0,
    )
    intake = make_intake(FakeProblems(IncidentMatch(problem, "keyword hoàn tiền")))
    await intake.post()
    created = intake.created()[0].payload.ticket
    assert created.problem_id == "P-1"
    kinds = [e.payload.kind for e in intake.published() if e.type == "outbound.message_requested"]
    assert kinds == ["incident_status"]


async def test_an_auto_reply_makes_no_ticket() -> None:
    intake = make_intake()
    accepted = await intake.post(
        subject="Automatic reply: Hoàn tiền", headers={"Auto-Submitted": "auto-replied"}
    )
    assert accepted.outcome == "skipped"
    assert intake.tickets.states == {}


# --- agent actions --------------------------------------------------------------------
async def test_an_agent_reply_is_applied_once_and_published() -> None:
    intake = make_intake()
    ticket_id = (await intake.post()).ticket_id or ""
    before = len(intake.broker.raw)
    reply = action("reply", ticket_id, text="Chào chị Lan, em kiểm tra ngay ạ.")
    snapshot = await intake.actions.act(reply)
    again = await intake.actions.act(reply)
    assert snapshot.agent_replies == 1
    assert again == snapshot
    assert len(intake.broker.raw) > before
    assert intake.tickets.outboxes[ticket_id] == []
    assert len(await intake.messages.for_ticket(ticket_id)) == 2


async def test_an_action_on_an_unknown_ticket_or_problem_is_refused() -> None:
    intake = make_intake()
    with pytest.raises(TicketNotFound):
        await intake.actions.act(action("reply", "T-none", text="?"))
    ticket_id = (await intake.post()).ticket_id or ""
    with pytest.raises(TransitionRefused, match="no problem P-9"):
        await intake.actions.act(action("link_problem", ticket_id, problem_id="P-9"))


async def test_a_compensation_offer_goes_to_the_compensation_desk() -> None:
    intake = make_intake()
    ticket_id = (await intake.post()).ticket_id or ""
    offer = action(
        "offer_compensation", ticket_id, compensation="voucher", amount=50_000, reason="late"
    )
    await intake.actions.act(offer)
    assert intake.compensation.offers == [offer]


# --- follow-ups, customers, publishing ------------------------------------------------
async def test_an_unhappy_survey_opens_one_senior_follow_up_linked_to_its_ticket() -> None:
    intake = make_intake()
    ticket_id = (await intake.post()).ticket_id or ""
    payload = SurveyFollowupPayload(
        survey_id="S-1",
        kind="csat",
        ticket_id=ticket_id,
        customer_id="C-1",
        score=1,
        comment="Chậm quá",
        language=Language.VI,
    )
    first = await intake.followups.open_followup(payload)
    again = await intake.followups.open_followup(payload)
    assert first == again
    followup = intake.tickets.states[first].snapshot
    assert (followup.linked_ticket_id, followup.tier_required) == (ticket_id, "L2")
    assert [e.payload.ticket_id for e in intake.created()].count(first) == 1


async def test_a_customer_upsert_needs_a_valid_identity_and_shows_in_the_360_view() -> None:
    intake = make_intake()
    with pytest.raises(InvalidMessage):
        await intake.customer_desk.upsert_customer(
            CustomerProfileUpsert.model_validate(
                {"upsert_id": "u-0", "identities": [{"kind": "email", "value": "not an email"}]}
            )
        )
    doc = await intake.customer_desk.upsert_customer(
        CustomerProfileUpsert.model_validate(
            {
                "upsert_id": "u-1",
                "identities": [{"kind": "email", "value": "lan.nguyen@example.vn"}],
                "tier": "vip",
            }
        )
    )
    await intake.post()
    view = await intake.customer_desk.customer_360(doc["_id"])
    assert view is not None
    assert view["customer"]["tier"] == "vip"
    assert [t.customer_tier for t in view["tickets"]] == [CustomerTier.VIP]


async def test_the_sweeper_publishes_what_a_crash_left_in_an_outbox() -> None:
    intake = make_intake()
    ticket_id = (await intake.post()).ticket_id or ""
    # As if the process stopped between storing the ticket and publishing its event.
    intake.tickets.outboxes[ticket_id] = [outbox_item(intake.created()[0])]
    published = len(intake.broker.raw)
    assert await intake.publishing.sweep_outboxes() == 1
    assert len(intake.broker.raw) == published + 1
    assert await intake.publishing.sweep_outboxes() == 0


def _call(**fields: Any) -> dict[str, Any]:
    return {
        "channel": "phone",
        "channel_message_id": "CA-1",
        "caller_number": "0903123456",
        "received_at": T0.isoformat(),
    } | fields


async def test_a_missed_call_opens_a_high_priority_callback_request() -> None:
    intake = make_intake()
    await intake.accepting.accept(parse_inbound(_call(missed=True)))
    ticket = intake.created()[0].payload.ticket
    assert (ticket.callback_requested, ticket.priority) == (True, "high")
    assert ticket.classified_by["callback"] == "missed-call-callback"


async def test_an_answered_call_is_no_callback_request() -> None:
    intake = make_intake()
    await intake.accepting.accept(parse_inbound(_call(duration_seconds=120)))
    ticket = intake.created()[0].payload.ticket
    assert (ticket.callback_requested, ticket.priority) == (False, "normal")
