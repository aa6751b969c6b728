from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from s8_shared.business_time.calendar import DEFAULT_CALENDARS_PATH, CalendarsDocument
from s8_shared.contracts import Author, SlaPayload, TicketSnapshot, TicketStatus
from s8_shared.data_files import load_model
from s8_sla_monitor.domain.clock import (
    Clock,
    apply_ticket_event,
    due_at,
    elapsed_business,
    fire_due,
    next_fire_at,
    payload_fields,
    sla_event_id,
    warn_due_at,
)
from s8_sla_monitor.domain.policies import PolicySet
from s8_sla_monitor.domain.triggers import (
    Merged,
    MessageAdded,
    Opened,
    StatusChanged,
    Trigger,
    Updated,
)

T0 = datetime(2026, 3, 2, 2, tzinfo=UTC)  # Monday 09:00 in Ho Chi Minh City
CALS = load_model(DEFAULT_CALENDARS_PATH, CalendarsDocument).calendars_by_id
ALWAYS = CALS["24x7"]
RES_PAUSE = {"pause_on": ["pending", "on_hold"]}
POLICIES = PolicySet.model_validate(
    {
        "policies": [
            {
                "policy_id": "urgent",
                "match": {"priorities": ["urgent"]},
                "targets": {
                    "first_response": {"seconds": 600, "calendar": "24x7", "warn_at": 0.5},
                    "next_response": {"seconds": 600, "calendar": "24x7"},
                    "resolution": {"seconds": 3600, "calendar": "24x7"} | RES_PAUSE,
                },
            },
            {
                "policy_id": "office",
                "match": {"channels": ["web_form"]},
                "targets": {"first_response": {"seconds": 14400, "calendar": "vn-office"}},
            },
            {
                "policy_id": "std",
                "targets": {
                    "first_response": {"seconds": 1000, "calendar": "24x7"},
                    "next_response": {"seconds": 500, "calendar": "24x7"},
                    "resolution": {"seconds": 10000, "calendar": "24x7"} | RES_PAUSE,
                },
            },
        ]
    }
)


def snap(**fields: Any) -> TicketSnapshot:
    base: dict[str, Any] = {
        "ticket_id": "T-1",
        "customer_id": "C-1",
        "channel": "email",
        "status": "open",
        "created_at": T0,
        "updated_at": T0,
    }
    return TicketSnapshot.model_validate(base | fields)


class Ticket:
    """The ticket's clocks as a store would keep them, plus what each event emitted."""

    def __init__(self) -> None:
        self.clocks: dict[str, Clock] = {}

    def apply(self, trigger: Trigger, seconds: float, **kw: Any) -> list[tuple[str, str]]:
        changed, emits = apply_ticket_event(
            list(self.clocks.values()),
            trigger,
            snap(**kw),
            at(seconds),
            policies=POLICIES,
            calendars=CALS,
        )
        self.clocks.update((c.clock_id, c) for c in changed)
        return [(kind, clock.clock_id) for kind, clock in emits]

    def msg(self, seconds: float, author: str, public: bool = True, **kw: Any) -> list[Any]:
        return self.apply(MessageAdded(Author(author), public), seconds, **kw)

    def status(self, seconds: float, frm: str, to: str, **kw: Any) -> list[tuple[str, str]]:
        kw.setdefault("status", to)
        return self.apply(StatusChanged(TicketStatus(frm), TicketStatus(to)), seconds, **kw)

    def __getitem__(self, clock_id: str) -> Clock:
        return self.clocks[clock_id]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


FR, RES, NR1, NR2 = (
    "T-1/first_response/1",
    "T-1/resolution/1",
    "T-1/next_response/1",
    "T-1/next_response/2",
)
REPLIED: dict[str, Any] = {"agent_replies": 1}


@pytest.fixture
def ticket() -> Ticket:
    t = Ticket()
    assert t.apply(Opened(), 0, status="new") == [
        ("sla.clock_started", FR),
        ("sla.clock_started", RES),
    ]
    return t


def test_created_starts_first_response_and_resolution(ticket: Ticket) -> None:
    fr = ticket[FR]
    assert (fr.state, fr.cycle, fr.policy_id, fr.target_seconds) == ("running", 1, "std", 1000)
    assert fr.pause_on == frozenset()
    assert ticket[RES].pause_on == {"pending", "on_hold"}
    assert due_at(fr, ALWAYS) == at(1000)
    assert ticket.apply(Opened(), 5) == []  # a replay starts nothing


def test_created_only_for_defined_targets() -> None:
    t = Ticket()
    assert t.apply(Opened(), 0, channel="web_form") == [("sla.clock_started", FR)]


def test_created_while_pending_starts_paused() -> None:
    t = Ticket()
    emits = t.apply(Opened(), 0, status="pending")
    assert emits[-1] == ("sla.paused", RES)
    assert t[FR].state == "running"


def test_public_agent_reply_meets_first_response(ticket: Ticket) -> None:
    assert ticket.msg(60, "agent", public=False) == []  # an internal note is no answer
    assert ticket.msg(70, "bot") == []
    assert ticket.msg(120, "agent", **REPLIED) == [("sla.met", FR)]
    fr = ticket[FR]
    assert (fr.state, fr.elapsed_before, fr.stopped_at) == ("met", 120, at(120))
    assert ticket[RES].state == "running"


def test_customer_after_agent_reply_starts_next_response(ticket: Ticket) -> None:
    assert ticket.msg(10, "customer") == []  # still waiting for the first response
    ticket.msg(100, "agent", **REPLIED)
    assert ticket.msg(200, "customer", **REPLIED) == [("sla.clock_started", NR1)]
    assert ticket.msg(250, "customer", **REPLIED) == []  # one is already running
    assert due_at(ticket[NR1], ALWAYS) == at(700)
    assert ticket.msg(400, "agent", **REPLIED) == [("sla.met", NR1)]
    assert ticket.msg(500, "customer", **REPLIED) == [("sla.clock_started", NR2)]
    assert ticket[NR2].cycle == 2


def test_pause_resume_keeps_elapsed_time(ticket: Ticket) -> None:
    assert ticket.status(100, "new", "pending") == [("sla.paused", RES)]
    assert ticket[FR].state == "running"  # pause_on is per target: first response runs on
    assert due_at(ticket[RES], ALWAYS) is None
    assert next_fire_at(ticket[RES], ALWAYS) is None
    assert ticket.status(200, "pending", "on_hold") == []  # still a pausing status
    assert ticket.status(400, "on_hold", "open") == [("sla.resumed", RES)]
    assert ticket.status(600, "open", "pending") == [("sla.paused", RES)]
    assert ticket.status(1000, "pending", "open") == [("sla.resumed", RES)]
    res = ticket[RES]
    assert elapsed_business(res, ALWAYS, at(1100)) == 100 + 200 + 100
    assert due_at(res, ALWAYS) == at(10000 + 300 + 400)
    assert elapsed_business(ticket[FR], ALWAYS, at(1100)) == 1100


def test_missed_status_event_is_repaired_by_the_snapshot(ticket: Ticket) -> None:
    assert ticket.msg(50, "bot", status="pending") == [("sla.paused", RES)]


def test_solved_meets_resolution_and_cancels_responses(ticket: Ticket) -> None:
    ticket.msg(100, "agent", **REPLIED)
    ticket.msg(200, "customer", **REPLIED)
    emits = ticket.status(300, "open", "solved", **REPLIED)
    assert emits == [("sla.met", RES), ("sla.cancelled", NR1)]
    assert ticket[NR1].state == "cancelled"
    assert ticket.msg(400, "customer", status="solved", **REPLIED) == []  # no clock after solve


def test_solved_without_reply_cancels_first_response(ticket: Ticket) -> None:
    assert ticket.status(50, "new", "solved") == [("sla.met", RES), ("sla.cancelled", FR)]


def test_reopen_starts_a_new_resolution_cycle(ticket: Ticket) -> None:
    ticket.status(300, "open", "solved")
    assert ticket.status(500, "solved", "open") == [("sla.clock_started", "T-1/resolution/2")]
    assert ticket.status(500, "solved", "open") == []  # a replay starts no third cycle
    res2 = ticket["T-1/resolution/2"]
    assert (res2.started_at, due_at(res2, ALWAYS)) == (at(500), at(10500))


@pytest.mark.parametrize("event", ["closed", "merged"])
def test_closed_or_merged_cancels_everything(ticket: Ticket, event: str) -> None:
    ticket.status(100, "new", "pending")
    if event == "closed":
        emits = ticket.status(200, "pending", "closed")
    else:
        emits = ticket.apply(Merged(), 200, status="closed", merged_into="T-2")
    assert sorted(emits) == [("sla.cancelled", FR), ("sla.cancelled", RES)]
    assert {c.state for c in ticket.clocks.values()} == {"cancelled"}
    assert ticket[RES].elapsed_before == 100  # paused time is not counted


def test_priority_change_recomputes_and_keeps_elapsed(ticket: Ticket) -> None:
    changed = ticket.apply(Updated(), 200, priority="urgent")
    assert changed == []  # nothing to emit; the changed clocks are returned for rescheduling
    fr = ticket[FR]
    assert (fr.policy_id, fr.target_seconds, fr.warn_at, fr.priority) == (
        "urgent",
        600,
        0.5,
        "urgent",
    )
    assert elapsed_business(fr, ALWAYS, at(300)) == 300
    assert due_at(fr, ALWAYS) == at(600)
    assert warn_due_at(fr, ALWAYS) == at(300)


def test_tighter_policy_already_exceeded_fires_both_at_once() -> None:
    t = Ticket()
    t.apply(Opened(), 0, channel="web_form")  # 4 business hours on vn-office
    assert elapsed_business(t[FR], CALS["vn-office"], at(3600)) == 3600
    t.apply(Updated(), 3600, channel="web_form", priority="urgent")
    fr = t[FR]
    assert (fr.calendar_id, fr.elapsed_before, fr.running_since) == ("24x7", 3600, at(3600))
    assert next_fire_at(fr, ALWAYS) == at(3600)
    assert fire_due(fr, ALWAYS, at(3600))[1] == ["warning", "breach"]


def test_policy_without_the_target_cancels_it(ticket: Ticket) -> None:
    ticket.msg(100, "agent", **REPLIED)
    ticket.msg(200, "customer", **REPLIED)
    emits = ticket.msg(300, "bot", channel="web_form", **REPLIED)
    assert sorted(emits) == [("sla.cancelled", NR1), ("sla.cancelled", RES)]


def test_fire_due_warning_then_breach_then_nothing(ticket: Ticket) -> None:
    fr = ticket[FR]
    assert next_fire_at(fr, ALWAYS) == at(800)
    assert fire_due(fr, ALWAYS, at(799)) == (fr, [])
    fr, kinds = fire_due(fr, ALWAYS, at(800))
    assert kinds == ["warning"]
    assert fr.warned
    assert fire_due(fr, ALWAYS, at(800))[1] == []  # idempotent
    assert next_fire_at(fr, ALWAYS) == at(1000)
    fr, kinds = fire_due(fr, ALWAYS, at(1000))
    assert (kinds, fr.state, fr.breached) == (["breach"], "breached_running", True)
    assert next_fire_at(fr, ALWAYS) is None
    assert fire_due(fr, ALWAYS, at(5000))[1] == []


def test_down_past_both_fires_both_once(ticket: Ticket) -> None:
    fr, kinds = fire_due(ticket[FR], ALWAYS, at(86400))
    assert kinds == ["warning", "breach"]
    assert fire_due(fr, ALWAYS, at(86400))[1] == []


def test_late_met_after_breach(ticket: Ticket) -> None:
    ticket.clocks[FR] = fire_due(ticket[FR], ALWAYS, at(1500))[0]
    assert ticket.msg(1800, "agent", **REPLIED) == [("sla.met", FR)]
    fr = ticket[FR]
    assert (fr.state, fr.breached) == ("met", True)
    fields = payload_fields(fr, ALWAYS, at(2000))
    assert fields["remaining_business_seconds"] == -800
    assert fields["elapsed_calendar_seconds"] == 1800  # up to the stop, not up to now


def test_breached_clock_pauses_and_resumes_breached(ticket: Ticket) -> None:
    ticket.clocks[RES] = fire_due(ticket[RES], ALWAYS, at(20000))[0]
    ticket.status(20000, "open", "pending")
    assert ticket[RES].breached
    ticket.status(20100, "pending", "open")
    assert ticket[RES].state == "breached_running"


def test_payload_fields_make_a_valid_payload(ticket: Ticket) -> None:
    fields = payload_fields(ticket[RES], ALWAYS, at(100))
    payload = SlaPayload(ticket_id="T-1", **fields)
    assert payload.due_at == at(10000)
    assert (payload.elapsed_business_seconds, payload.remaining_business_seconds) == (100, 9900)
    assert payload.target == "resolution"
    assert payload.calendar_id == "24x7"


def test_sla_event_ids_are_deterministic() -> None:
    assert sla_event_id(FR, "sla.met") == sla_event_id(FR, "sla.met")
    assert sla_event_id(FR, "sla.met") != sla_event_id(FR, "sla.breached")
    assert sla_event_id(RES, "sla.paused", at(1)) != sla_event_id(RES, "sla.paused", at(2))
