from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from s8_intake.domain import outreach as o
from s8_intake.domain import problems as p
from s8_intake.domain.problems import CustomerFacts, ProblemRefused
from s8_intake.domain.status import TransitionRefused
from s8_intake.domain.ticket import TicketState
from s8_shared.contracts import Channel, CustomerTier, Identity, Language, TicketStatus
from s8_shared.contracts.problems import (
    LocalizedText,
    ProblemDeclaration,
    ProblemSegment,
    ProblemSnapshot,
    ProblemStatus,
    ProblemUpdate,
)
from s8_testing.builders import T0
from s8_testing.intake_builders import make_new_ticket


def declaration(**overrides: Any) -> ProblemDeclaration:
    fields: dict[str, Any] = {
        "title": {"vi": "Cổng thanh toán gián đoạn", "en": "Payment gateway outage"},
        "description": {"vi": "Thanh toán thẻ lỗi tại Hà Nội.", "en": "Card payments fail."},
        "segment": {"regions": ["Hà Nội"]},
        "keywords": ["thanh toán", "payment"],
        "declared_by": "lead-1",
    }
    fields.update(overrides)
    return ProblemDeclaration.model_validate(fields)


def problem(**overrides: Any) -> ProblemSnapshot:
    return p.declare(declaration(**overrides), "P-1", T0)


def hanoi(**overrides: Any) -> CustomerFacts:
    fields: dict[str, Any] = {"customer_id": "C-1", "region": "Hà Nội"}
    fields.update(overrides)
    return CustomerFacts(**fields)


# --- declaring and updating -----------------------------------------------------------
def test_a_declared_problem_starts_at_update_one_and_cleans_its_keywords() -> None:
    made = problem(keywords=[" thanh toán ", "thanh toán", ""])
    assert made.update_seq == 1
    assert made.status == ProblemStatus.INVESTIGATING
    assert made.keywords == ["thanh toán"]
    assert made.started_at == T0


def test_a_problem_cannot_be_declared_already_resolved() -> None:
    with pytest.raises(ProblemRefused, match="cannot be declared resolved"):
        problem(status="resolved")


def test_a_segment_must_name_who_is_affected() -> None:
    with pytest.raises(ValidationError, match="name the affected segment"):
        declaration(segment={})


def test_a_text_needs_at_least_one_language() -> None:
    with pytest.raises(ValidationError, match="vi"):
        LocalizedText()


def test_an_update_bumps_the_sequence_and_resolving_records_the_time() -> None:
    later = T0 + timedelta(hours=2)
    identified = p.update(
        problem(), ProblemUpdate(status=ProblemStatus.IDENTIFIED, updated_by="lead-1"), later
    )
    assert (identified.update_seq, identified.status) == (2, ProblemStatus.IDENTIFIED)
    resolved = p.update(
        identified, ProblemUpdate(status=ProblemStatus.RESOLVED, updated_by="lead-1"), later
    )
    assert resolved.update_seq == 3
    assert resolved.resolved_at == later


def test_a_resolved_problem_is_final() -> None:
    resolved = p.update(
        problem(), ProblemUpdate(status=ProblemStatus.RESOLVED, updated_by="lead-1"), T0
    )
    with pytest.raises(ProblemRefused, match="resolved"):
        p.update(resolved, ProblemUpdate(message={"en": "again"}, updated_by="lead-1"), T0)


def test_an_update_that_changes_nothing_is_refused() -> None:
    with pytest.raises(ProblemRefused, match="nothing to change"):
        p.update(problem(), ProblemUpdate(updated_by="lead-1"), T0)


# --- segment matching -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("segment", "customer", "affected"),
    [
        ({"regions": ["Hà Nội"]}, hanoi(), True),
        ({"regions": ["Hà Nội"]}, hanoi(region="ha noi"), True),
        ({"regions": ["Hà Nội"]}, hanoi(region="HANOI"), True),
        ({"regions": ["Hà Nội"]}, hanoi(region="Hồ Chí Minh"), False),
        ({"regions": ["Hà Nội"]}, hanoi(region=None), False),
        ({"products": ["Router X-200"]}, hanoi(products=("router x200",)), True),
        ({"products": ["Router X-200"]}, hanoi(products=("Router X-300",)), False),
        ({"products": ["Router X-200"]}, hanoi(), False),
        ({"tiers": ["vip"]}, hanoi(tier=CustomerTier.VIP), True),
        ({"tiers": ["vip"]}, hanoi(), False),
        ({"regions": ["Hà Nội"], "tiers": ["vip"]}, hanoi(), False),  # every criterion
        ({"regions": ["Hà Nội"], "tiers": ["vip"]}, hanoi(tier=CustomerTier.VIP), True),
        ({"customer_ids": ["C-1"]}, hanoi(region="Đà Nẵng"), True),
        ({"customer_ids": ["C-2"]}, hanoi(), False),
        ({"regions": ["Huế"], "customer_ids": ["C-1"]}, hanoi(), True),  # listed wins
        ({"all_customers": True}, hanoi(region=None), True),
    ],
)
def test_segment_matching(segment: dict[str, Any], customer: CustomerFacts, affected: bool) -> None:
    assert p.affects(ProblemSegment.model_validate(segment), customer) is affected


@pytest.mark.parametrize(
    ("text", "category", "why"),
    [
        ("Tôi không thanh toán được bằng thẻ", None, "keyword: thanh toán"),
        ("toi khong thanh toan duoc", None, "keyword: thanh toán"),  # accents optional
        ("My payment keeps failing", None, "keyword: payment"),
        ("Tôi muốn đổi mật khẩu", None, None),
        ("Tôi muốn đổi mật khẩu", "billing", "category: billing"),
    ],
)
def test_a_message_matches_by_keyword_or_category(
    text: str, category: str | None, why: str | None
) -> None:
    made = problem(categories=["billing"])
    assert p.explains(made, text, None, category) == why


def test_a_problem_without_keywords_or_categories_never_links_on_its_own() -> None:
    made = problem(keywords=[])
    assert p.explains(made, "thanh toán lỗi", None, "billing") is None


@pytest.mark.parametrize(
    ("routing", "tier", "routed"),
    [
        ("vip", CustomerTier.VIP, True),
        ("vip", CustomerTier.STANDARD, False),
        ("never", CustomerTier.VIP, False),
        ("always", CustomerTier.STANDARD, True),
    ],
)
def test_which_incidents_still_go_to_an_agent(
    routing: str, tier: CustomerTier, routed: bool
) -> None:
    assert p.routes_incident(problem(incident_routing=routing), tier) is routed


# --- notices ----------------------------------------------------------------------------
def test_notices_speak_the_customers_language() -> None:
    made = problem()
    subject_vi, text_vi = o.notice(made, "declared", Language.VI)
    subject_en, text_en = o.notice(made, "declared", Language.EN)
    assert "Cổng thanh toán gián đoạn" in subject_vi
    assert "đang kiểm tra" in text_vi
    assert "Payment gateway outage" in subject_en
    assert "investigating" in text_en


def test_a_notice_falls_back_to_the_other_language_when_one_is_missing() -> None:
    made = problem(title={"vi": "Mất mạng"}, description={"vi": "Mất mạng diện rộng."})
    subject, _ = o.notice(made, "declared", Language.EN)
    assert "Mất mạng" in subject


def test_the_resolution_notice_carries_the_leads_message() -> None:
    resolved = p.update(
        problem(),
        ProblemUpdate(
            status=ProblemStatus.RESOLVED,
            message={"vi": "Đã khắc phục lúc 14:00.", "en": "Fixed at 14:00."},
            updated_by="lead-1",
        ),
        T0,
    )
    _, text = o.notice(resolved, "resolved", Language.EN)
    assert "Fixed at 14:00." in text


EMAIL = Identity(kind="email", value="lan@example.vn")
PHONE = Identity(kind="phone", value="+84903123456")
ZALO = Identity(kind="zalo", value="zalo-77")


@pytest.mark.parametrize(
    ("preferred", "identities", "last", "expected"),
    [
        (Channel.SMS, [EMAIL, PHONE], None, (Channel.SMS, "+84903123456")),
        (Channel.SOCIAL, [EMAIL, ZALO], None, (Channel.SOCIAL, "zalo-77")),
        (Channel.PHONE, [PHONE], None, (Channel.SMS, "+84903123456")),
        (Channel.SMS, [EMAIL], (Channel.LIVE_CHAT, "v-1"), (Channel.LIVE_CHAT, "v-1")),
        (None, [EMAIL, PHONE], (Channel.SOCIAL, "fb-9"), (Channel.SOCIAL, "fb-9")),
        (None, [PHONE, EMAIL], None, (Channel.EMAIL, "lan@example.vn")),
        (None, [Identity(kind="chat_visitor", value="v-2")], None, None),
    ],
)
def test_a_notice_goes_to_the_preferred_then_last_used_channel(
    preferred: Channel | None,
    identities: list[Identity],
    last: tuple[Channel, str] | None,
    expected: tuple[Channel, str] | None,
) -> None:
    assert o.contact_for(preferred, identities, last) == expected


# --- incidents ----------------------------------------------------------------------------
def new_ticket() -> TicketState:
    return make_new_ticket().state


def test_linking_a_new_ticket_parks_it_for_the_fix() -> None:
    change = p.link_incident(new_ticket(), problem(), T0, by="auto", hold=True)
    snap = change.state.snapshot
    assert (snap.problem_id, snap.status, snap.version) == ("P-1", TicketStatus.PENDING, 2)
    assert [e.type for e in change.events] == ["ticket.problem_linked", "ticket.status_changed"]
    assert change.events[1].payload.reason == "known_problem"


def test_linking_without_hold_keeps_the_ticket_for_an_agent() -> None:
    change = p.link_incident(new_ticket(), problem(), T0, by="auto", hold=False)
    assert change.state.snapshot.status == TicketStatus.NEW
    assert [e.type for e in change.events] == ["ticket.problem_linked"]


def test_a_ticket_cannot_be_linked_to_a_resolved_problem_or_twice() -> None:
    resolved = p.update(
        problem(), ProblemUpdate(status=ProblemStatus.RESOLVED, updated_by="lead"), T0
    )
    with pytest.raises(TransitionRefused, match="already resolved"):
        p.link_incident(new_ticket(), resolved, T0, by="agent")
    linked = p.link_incident(new_ticket(), problem(), T0, by="agent").state
    with pytest.raises(TransitionRefused, match="already linked"):
        p.link_incident(linked, problem(), T0, by="agent")


def test_unlinking_a_parked_ticket_sends_it_to_the_agents() -> None:
    parked = p.link_incident(new_ticket(), problem(), T0, by="auto", hold=True).state
    change = p.unlink_incident(parked, T0, "agent-7")
    assert change.state.snapshot.problem_id is None
    assert change.state.snapshot.status == TicketStatus.OPEN
    assert [e.type for e in change.events] == ["ticket.problem_unlinked", "ticket.status_changed"]
    assert change.events[0].payload.problem_id == "P-1"


def test_unlinking_a_ticket_that_is_not_linked_is_refused() -> None:
    with pytest.raises(TransitionRefused, match="not linked"):
        p.unlink_incident(new_ticket(), T0, "agent-7")


# --- outreach order ----------------------------------------------------------------------
def test_recipients_merge_in_id_order_without_repeats() -> None:
    pages = [o.IdPage(["C-1", "C-3"], complete=True), o.IdPage(["C-2", "C-3"], complete=True)]
    assert o.next_recipients(pages, 10) == (["C-1", "C-2", "C-3"], True)


def test_a_batch_stops_at_the_size_and_says_more_follow() -> None:
    pages = [o.IdPage(["C-1", "C-2", "C-3"], complete=True)]
    assert o.next_recipients(pages, 2) == (["C-1", "C-2"], False)


def test_nothing_is_taken_beyond_where_a_source_cut_short_was_read() -> None:
    # The segment was read up to C-4 only; C-7 (an incident) waits for a later batch so that
    # segment customers between C-4 and C-7 keep their order and none is skipped.
    segment = o.IdPage(["C-2", "C-4"], complete=False)
    incidents = o.IdPage(["C-3", "C-7"], complete=True)
    assert o.next_recipients([segment, incidents], 10) == (["C-2", "C-3", "C-4"], False)


def test_no_sources_left_means_the_last_batch() -> None:
    assert o.next_recipients([o.IdPage([], True), o.IdPage([], True)], 5) == ([], True)


def test_a_page_cut_short_with_no_ids_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one id"):
        o.next_recipients([o.IdPage([], complete=False)], 5)
