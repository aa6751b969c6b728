"""The domain decides a new ticket's first answer: `open_answered` returns the final
`ticket.created` and the events after it, nothing patched afterwards."""

from s8_intake.adapters.data_files import (
    DEFAULT_ARTICLES_PATH,
    DEFAULT_POLICY_PATH,
    load_articles,
    load_policy,
)
from s8_intake.domain import problems
from s8_intake.domain.first_answer import IncidentMatch, SelfServiceData, open_answered
from s8_intake.domain.ticket import Change, CustomerView
from s8_shared.contracts import Channel, CustomerTier, TicketStatus
from s8_shared.contracts.problems import ProblemDeclaration
from s8_testing.builders import T0
from s8_testing.intake_builders import NEUTRAL, make_classification, make_message

DATA = SelfServiceData(
    load_articles(DEFAULT_ARTICLES_PATH), load_policy(DEFAULT_POLICY_PATH), faq_threshold=0.72
)
OUTAGE = problems.declare(
    ProblemDeclaration.model_validate(
        {
            "title": {"vi": "Hoàn tiền chậm", "en": "Refunds delayed"},
            "description": {"vi": "Hoàn tiền chậm 3 ngày.", "en": "Refunds are 3 days late."},
            "segment": {"all_customers": True},
            "keywords": ["hoàn tiền"],
            "declared_by": "lead-1",
        }
    ),
    "P-1",
    T0,
)


def opened(*, incident: IncidentMatch | None = None, **message: object) -> Change:
    return open_answered(
        "T-1",
        CustomerView("C-1", CustomerTier.STANDARD),
        make_message(**message),
        make_classification(),
        NEUTRAL,
        T0,
        None,
        incident=incident,
        self_service=DATA,
    )


def test_ticket_created_carries_the_snapshot_after_a_faq_answer() -> None:
    change = opened(subject="Đổi mật khẩu", text="Làm sao để đổi mật khẩu tài khoản?")
    created = change.events[0]
    assert created.type == "ticket.created"
    assert created.payload.ticket == change.state.snapshot
    assert change.state.snapshot.deflected
    assert [e.type for e in change.events][-1] == "outbound.message_requested"


def test_a_ticket_nothing_answers_is_created_as_opened_and_acknowledged() -> None:
    change = opened(subject="Rò nước", text="Máy lọc nước bị rò nước, cần kỹ thuật viên.")
    created = change.events[0]
    assert created.payload.ticket.version == 1 == change.state.snapshot.version
    assert change.state.snapshot.status == TicketStatus.NEW
    assert change.events[-1].payload.kind == "acknowledgement"


def test_an_incident_of_a_known_problem_is_linked_in_ticket_created_and_told_its_status() -> None:
    change = opened(incident=IncidentMatch(OUTAGE, "keyword hoàn tiền"))
    created = change.events[0]
    assert created.payload.ticket == change.state.snapshot
    assert created.payload.ticket.problem_id == "P-1"
    assert change.events[-1].payload.kind == "incident_status"


def test_a_phone_call_gets_no_faq_answer() -> None:
    change = opened(channel=Channel.PHONE, subject=None, text="Làm sao để đổi mật khẩu tài khoản?")
    assert not change.state.snapshot.deflected
