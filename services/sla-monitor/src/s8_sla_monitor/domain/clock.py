"""SLA clocks: one per ticket, target and cycle — a pure state machine driven by ticket
events (`apply_ticket_event`) and by time (`fire_due`).

Elapsed time is business time of the clock's calendar, banked in `elapsed_before` at every
pause, stop or policy change, so those never lose or double-count time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from s8_shared.business_time.calendar import (
    BusinessCalendar,
    add_business_seconds,
    business_seconds_between,
)
from s8_shared.contracts import Author, TicketSnapshot, TicketStatus, deterministic_id
from s8_sla_monitor.domain.policies import PolicySet, SlaPolicy, TargetSpec, match_policy
from s8_sla_monitor.domain.triggers import Merged, MessageAdded, Opened, StatusChanged, Trigger

RUNNING, PAUSED, MET, BREACHED_RUNNING, CANCELLED = (
    "running",
    "paused",
    "met",
    "breached_running",
    "cancelled",
)
FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION = "first_response", "next_response", "resolution"
ACTIVE_STATES = frozenset({RUNNING, PAUSED, BREACHED_RUNNING})
_TICKING = frozenset({RUNNING, BREACHED_RUNNING})


@dataclass(frozen=True)
class Clock:
    clock_id: str  # f"{ticket_id}/{target}/{cycle}"
    ticket_id: str
    target: str
    cycle: int  # resolution: one per reopen; next_response: one per customer turn
    policy_id: str
    calendar_id: str
    target_seconds: int
    warn_at: float
    pause_on: frozenset[str]
    priority: str
    channel: str
    started_at: datetime
    state: str
    elapsed_before: float  # business seconds banked before the current running segment
    running_since: datetime | None
    warned: bool = False
    breached: bool = False
    stopped_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


def elapsed_business(clock: Clock, cal: BusinessCalendar, now: datetime) -> float:
    if clock.state in _TICKING and clock.running_since is not None:
        return clock.elapsed_before + business_seconds_between(cal, clock.running_since, now)
    return clock.elapsed_before


def _instant_at(clock: Clock, cal: BusinessCalendar, business_seconds: float) -> datetime | None:
    """When the clock's elapsed time reaches `business_seconds` (None unless ticking)."""
    if clock.state not in _TICKING or clock.running_since is None:
        return None
    # Already past it (e.g. after a tighter policy): due at once.
    remaining = max(0.0, business_seconds - clock.elapsed_before)
    return add_business_seconds(cal, clock.running_since, remaining)


def due_at(clock: Clock, cal: BusinessCalendar) -> datetime | None:
    return _instant_at(clock, cal, clock.target_seconds)


def warn_due_at(clock: Clock, cal: BusinessCalendar) -> datetime | None:
    return None if clock.warned else _instant_at(clock, cal, clock.warn_at * clock.target_seconds)


def next_fire_at(clock: Clock, cal: BusinessCalendar) -> datetime | None:
    if clock.state != RUNNING or clock.breached:
        return None
    pending = [t for t in (warn_due_at(clock, cal), due_at(clock, cal)) if t is not None]
    return min(pending, default=None)


def fire_due(clock: Clock, cal: BusinessCalendar, now: datetime) -> tuple[Clock, list[str]]:
    """The kinds ("warning", "breach") due at `now`, once each per clock: the flags make a
    repeated call (or a replay after a restart) fire nothing new."""
    if clock.state != RUNNING:
        return clock, []
    kinds: list[str] = []
    warn_at = warn_due_at(clock, cal)
    if warn_at is not None and warn_at <= now:
        kinds.append("warning")
        clock = replace(clock, warned=True)
    breach_at = due_at(clock, cal)
    if not clock.breached and breach_at is not None and breach_at <= now:
        kinds.append("breach")
        clock = replace(clock, warned=True, breached=True, state=BREACHED_RUNNING)
    return clock, kinds


def payload_fields(clock: Clock, cal: BusinessCalendar, now: datetime) -> dict[str, Any]:
    """The fields of `SlaPayload` for this clock as of `now`, except `ticket_id`."""
    elapsed = elapsed_business(clock, cal, now)
    end = clock.stopped_at or now
    return {
        "policy_id": clock.policy_id,
        "target": clock.target,
        "clock_id": clock.clock_id,
        "priority": clock.priority,
        "channel": clock.channel,
        "calendar_id": clock.calendar_id,
        "target_seconds": clock.target_seconds,
        "due_at": due_at(clock, cal),
        "elapsed_business_seconds": elapsed,
        "elapsed_calendar_seconds": max(0.0, (end - clock.started_at).total_seconds()),
        "remaining_business_seconds": clock.target_seconds - elapsed,
    }


def sla_event_id(clock_id: str, kind: str, occurrence: object = None) -> uuid.UUID:
    """Stable event id, so a re-emitted event is recognized downstream. Kinds that can
    happen more than once per clock (paused, resumed) must pass an `occurrence`
    (e.g. the instant) or later ones would be taken for duplicates."""
    if occurrence is None:
        return deterministic_id("sla", clock_id, kind)
    return deterministic_id("sla", clock_id, kind, occurrence)


def _spec(policy: SlaPolicy, target: str) -> TargetSpec | None:
    return next((spec for name, spec in policy.targets.items() if name == target), None)


def _promise(policy: SlaPolicy, spec: TargetSpec, snapshot: TicketSnapshot) -> dict[str, Any]:
    """What a clock takes from its policy and ticket: on start, and again on recompute."""
    return {
        "policy_id": policy.policy_id,
        "calendar_id": spec.calendar,
        "target_seconds": spec.seconds,
        "warn_at": spec.warn_at,
        "pause_on": frozenset(s.value for s in spec.pause_on),
        "priority": snapshot.priority.value,
        "channel": snapshot.channel.value,
    }


class _Batch:
    """The ticket's clocks while one event is applied, with what changed and what to emit."""

    def __init__(
        self, clocks: Sequence[Clock], calendars: Mapping[str, BusinessCalendar], now: datetime
    ) -> None:
        self.clocks = {c.clock_id: c for c in clocks}
        self.calendars, self.now = calendars, now
        self.changed: dict[str, None] = {}  # ordered set of clock ids
        self.emits: list[tuple[str, Clock]] = []

    def active(self, *targets: str) -> list[Clock]:
        return [c for c in self.clocks.values() if c.active and c.target in targets]

    def put(self, clock: Clock, emit: str | None = None) -> None:
        self.clocks[clock.clock_id] = clock
        self.changed[clock.clock_id] = None
        if emit is not None:
            self.emits.append((emit, clock))

    def banked(self, clock: Clock) -> float:
        return elapsed_business(clock, self.calendars[clock.calendar_id], self.now)

    def start(self, snapshot: TicketSnapshot, policy: SlaPolicy, target: str) -> None:
        spec = _spec(policy, target)
        if spec is None:
            return
        cycle = 1 + max((c.cycle for c in self.clocks.values() if c.target == target), default=0)
        clock = Clock(
            clock_id=f"{snapshot.ticket_id}/{target}/{cycle}",
            ticket_id=snapshot.ticket_id,
            target=target,
            cycle=cycle,
            **_promise(policy, spec, snapshot),
            started_at=self.now,
            state=RUNNING,
            elapsed_before=0.0,
            running_since=self.now,
        )
        self.put(clock, "sla.clock_started")

    def stop(self, clock: Clock, state: str) -> None:
        stopped = replace(
            clock,
            state=state,
            elapsed_before=self.banked(clock),
            running_since=None,
            stopped_at=self.now,
        )
        self.put(stopped, "sla.met" if state == MET else "sla.cancelled")

    def recompute(self, snapshot: TicketSnapshot, policy: SlaPolicy) -> None:
        """Follow a changed policy (priority, channel, tier, team…): keep the elapsed time,
        take the new promise. Warned/breached stay set: those events were already sent."""
        for clock in self.active(FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION):
            spec = _spec(policy, clock.target)
            if spec is None:
                self.stop(clock, CANCELLED)
                continue
            new = replace(clock, **_promise(policy, spec, snapshot))
            if new == clock:
                continue
            # Bank the segment on the old calendar before switching calendars.
            ticking = clock.state in _TICKING
            self.put(
                replace(
                    new,
                    elapsed_before=self.banked(clock),
                    running_since=self.now if ticking else None,
                )
            )

    def sync_pauses(self, status: str) -> None:
        for clock in self.active(FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION):
            if clock.state in _TICKING and status in clock.pause_on:
                paused = replace(
                    clock, state=PAUSED, elapsed_before=self.banked(clock), running_since=None
                )
                self.put(paused, "sla.paused")
            elif clock.state == PAUSED and status not in clock.pause_on:
                state = BREACHED_RUNNING if clock.breached else RUNNING
                self.put(replace(clock, state=state, running_since=self.now), "sla.resumed")


def apply_ticket_event(
    clocks: Sequence[Clock],
    trigger: Trigger,
    snapshot: TicketSnapshot,
    now: datetime,
    *,
    policies: PolicySet,
    calendars: Mapping[str, BusinessCalendar],
) -> tuple[list[Clock], list[tuple[str, Clock]]]:
    """Apply one ticket event (as its `trigger`) to the ticket's clocks (all, any state).

    `now` is the event's time. Returns the new or changed clocks (final state, in order of
    first change) and the SLA events to emit as (type, clock at that moment). Replaying an
    event changes nothing. Pause state follows the snapshot's status on every event, so a
    missed status_changed is repaired by the next event.
    """
    batch = _Batch(clocks, calendars, now.astimezone(UTC))
    policy = match_policy(policies, snapshot)
    status = (trigger.to_status if isinstance(trigger, StatusChanged) else snapshot.status).value
    batch.recompute(snapshot, policy)

    match trigger:
        case Opened():
            if not any(c.target in (FIRST_RESPONSE, RESOLUTION) for c in batch.clocks.values()):
                batch.start(snapshot, policy, FIRST_RESPONSE)
                batch.start(snapshot, policy, RESOLUTION)
        case MessageAdded(author=Author.AGENT, public=True):
            # Bots and internal notes do not count as a human answer.
            for clock in batch.active(FIRST_RESPONSE, NEXT_RESPONSE):
                batch.stop(clock, MET)
        case MessageAdded(author=Author.CUSTOMER, public=True) if (
            (snapshot.agent_replies > 0 or snapshot.first_agent_reply_at is not None)
            and status not in ("solved", "closed")
            and not batch.active(FIRST_RESPONSE, NEXT_RESPONSE)
        ):
            batch.start(snapshot, policy, NEXT_RESPONSE)
        case StatusChanged(to_status=TicketStatus.SOLVED):
            for clock in batch.active(RESOLUTION):
                batch.stop(clock, MET)
            for clock in batch.active(FIRST_RESPONSE, NEXT_RESPONSE):
                batch.stop(clock, CANCELLED)
        case StatusChanged(to_status=TicketStatus.CLOSED) | Merged():
            for clock in batch.active(FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION):
                batch.stop(clock, CANCELLED)
        case StatusChanged(from_status=TicketStatus.SOLVED) if not batch.active(RESOLUTION):
            batch.start(snapshot, policy, RESOLUTION)  # reopened: a new resolution cycle

    batch.sync_pauses(status)
    return [batch.clocks[i] for i in batch.changed], batch.emits
