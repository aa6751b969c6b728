"""The SLA monitor's application service: clocks follow ticket events; a scheduler fires
warnings and breaches at their due moment, once, even across restarts and replicas.

Every change is saved with the events it causes in the clock's outbox, then published and
removed from it; what a crash or a broker error leaves there is published by the next event
of the ticket or by the sweeper (s8_shared.outbox)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from s8_shared import topics
from s8_shared.business_time.calendar import BusinessCalendar
from s8_shared.contracts import Event, TicketSnapshot, utcnow
from s8_shared.contracts.sla import (
    SlaBreached,
    SlaCancelled,
    SlaClockStarted,
    SlaMet,
    SlaPaused,
    SlaPayload,
    SlaResumed,
    SlaWarning,
)
from s8_shared.kafka.publisher import Publisher
from s8_shared.outbox import OutboxItem, item_for
from s8_sla_monitor.domain.clock import (
    Clock,
    apply_ticket_event,
    fire_due,
    next_fire_at,
    payload_fields,
    sla_event_id,
)
from s8_sla_monitor.domain.policies import PolicySet
from s8_sla_monitor.domain.triggers import Trigger, Updated, trigger_for
from s8_sla_monitor.metrics import SlaMetrics
from s8_sla_monitor.ports import Clocks, ClockSave, TicketSnapshots

log = logging.getLogger("s8.sla")
PRODUCER = "s8-sla-monitor"
EVENTS: dict[str, type[Event[SlaPayload]]] = {
    "sla.clock_started": SlaClockStarted,
    "sla.warning": SlaWarning,
    "sla.breached": SlaBreached,
    "sla.met": SlaMet,
    "sla.paused": SlaPaused,
    "sla.resumed": SlaResumed,
    "sla.cancelled": SlaCancelled,
}
REPEATABLE = frozenset({"sla.paused", "sla.resumed"})
FIRED_TYPE = {"warning": "sla.warning", "breach": "sla.breached"}
MAX_CAS_ATTEMPTS = 8


class SlaService:
    def __init__(
        self,
        *,
        clocks: Clocks,
        tickets: TicketSnapshots,
        publisher: Publisher,
        policies: Callable[[], PolicySet],
        calendars: Callable[[], Mapping[str, BusinessCalendar]],
        metrics: SlaMetrics,
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = timedelta(seconds=30),
    ) -> None:
        self.clocks = clocks
        self.tickets = tickets
        self.publisher = publisher
        self.policies = policies
        self.calendars = calendars
        self.metrics = metrics
        self.now = clock
        self.lease = lease
        self.owner = uuid.uuid4().hex

    def calendar(self, clock: Clock) -> BusinessCalendar:
        return self.calendars()[clock.calendar_id]

    async def on_ticket_event(self, event: Event[Any]) -> None:
        """A ticket event (of `TICKET_EVENTS`) starts, pauses, resumes, meets or cancels
        the ticket's clocks."""
        snap: TicketSnapshot = event.payload.ticket
        # The latest snapshot is kept so a policy change can recompute open clocks.
        self.tickets.queue(snap, event.type)
        for _ in range(MAX_CAS_ATTEMPTS):
            stored = await self.clocks.for_ticket(snap.ticket_id)
            trigger = trigger_for(event, has_clocks=bool(stored))
            if trigger is None:
                return
            if await self._apply(stored, trigger, snap, event.occurred_at) is not None:
                return
        raise RuntimeError(
            f"clocks of {snap.ticket_id} kept changing; the event will be redelivered"
        )

    async def recompute_open(self) -> int:
        """After a policy or calendar change: open clocks take their ticket's (possibly
        new) policy, keeping the time already elapsed; returns how many changed."""
        changed_count = 0
        now = self.now()
        for ticket_id in await self.clocks.tickets_with_open_clocks():
            snap = await self.tickets.get(ticket_id)
            if snap is None:
                continue
            for _ in range(MAX_CAS_ATTEMPTS):
                stored = await self.clocks.for_ticket(ticket_id)
                changed = await self._apply(stored, Updated(), snap, now)
                if changed is not None:
                    changed_count += len(changed)
                    break
        return changed_count

    async def _apply(
        self,
        stored: Sequence[tuple[Clock, int, list[OutboxItem]]],
        trigger: Trigger,
        snap: TicketSnapshot,
        at: datetime,
    ) -> list[Clock] | None:
        """Applies `trigger` to the stored clocks, saves and publishes what it changed and
        caused (after what outboxes still held); None when a clock changed meanwhile."""
        changed, emits = apply_ticket_event(
            [c for c, _, _ in stored],
            trigger,
            snap,
            at,
            policies=self.policies(),
            calendars=self.calendars(),
        )
        revs = {c.clock_id: rev for c, rev, _ in stored}
        events = await self._save_all(changed, revs, emits, at)
        if events is None:
            return None
        await self._publish({c.clock_id: items for c, _, items in stored if items}, events)
        return changed

    async def _save_all(
        self,
        changed: list[Clock],
        revs: Mapping[str, int],
        emits: list[tuple[str, Clock]],
        at: datetime,
    ) -> list[tuple[str, Event[SlaPayload]]] | None:
        """Saves each changed clock with the events it causes in its outbox; the events
        (clock id, event) to publish, or None when a clock changed meanwhile."""
        events = [(clock.clock_id, self._event(kind, clock, at)) for kind, clock in emits]
        saves = [
            ClockSave(
                clock,
                next_fire_at(clock, self.calendar(clock)),
                revs.get(clock.clock_id),
                [item_for(topics.SLA, e) for clock_id, e in events if clock_id == clock.clock_id],
            )
            for clock in changed
        ]
        return events if await self.clocks.save_all(saves) else None

    def _event(self, event_type: str, clock: Clock, at: datetime) -> Event[SlaPayload]:
        fields = payload_fields(clock, self.calendar(clock), at)
        return EVENTS[event_type](
            type=event_type,
            # Pauses and resumes repeat on one clock: their ids include when they happened.
            event_id=sla_event_id(
                clock.clock_id, event_type, at.isoformat() if event_type in REPEATABLE else None
            ),
            occurred_at=at,
            producer=PRODUCER,
            payload=SlaPayload(ticket_id=clock.ticket_id, **fields),
        )

    async def _publish(
        self,
        leftovers: Mapping[str, list[OutboxItem]],
        events: list[tuple[str, Event[SlaPayload]]],
    ) -> None:
        """Publishes what outboxes still held (older), then the new events, in order; each
        leaves its clock's outbox once published."""
        queued = [(clock_id, i.event()) for clock_id, items in leftovers.items() for i in items]
        published: dict[str, list[str]] = {}
        for clock_id, event in [*queued, *events]:
            if event is not None:
                await self.publisher.publish(topics.SLA, event)
                self.metrics.clock_events.labels(event.type, event.payload.target).inc()
                published.setdefault(clock_id, []).append(str(event.event_id))
        for clock_id, items in leftovers.items():  # undecodable ones too: never retried forever
            published.setdefault(clock_id, []).extend(i.event_id for i in items)
        await self.clocks.outbox.remove_all(published)

    async def sweep_outboxes(self) -> int:
        """Publishes what a crash or a broker error left in clocks' outboxes."""
        swept = 0
        for clock_id in await self.clocks.outbox.pending():
            items = await self.clocks.outbox.items(clock_id)
            await self._publish({clock_id: items}, [])
            swept += len(items)
        return swept

    # --- the scheduler -------------------------------------------------------------------
    async def fire_due_clocks(self) -> int:
        """Fires every clock that is due now; returns how many events it published."""
        fired = 0
        while True:
            now = self.now()
            claimed = await self.clocks.claim_due(now, self.owner, self.lease)
            self.metrics.scheduler_ran()
            if claimed is None:
                return fired
            clock, rev, due = claimed
            updated, kinds = fire_due(clock, self.calendar(clock), now)
            emits = [(FIRED_TYPE[kind], updated) for kind in kinds]
            events = await self._save_all([updated], {updated.clock_id: rev}, emits, now)
            if events is None:
                continue  # the lease was lost to another replica: it fires the clock
            await self._publish({}, events)
            for kind in kinds:
                self.metrics.fired.labels(kind, clock.target, clock.priority, clock.channel).inc()
                fired += 1
            self.metrics.lag.observe(max(0.0, (now - due).total_seconds()))

    async def refresh_gauges(self) -> None:
        self.metrics.open_clocks.clear()
        for (target, state), n in (await self.clocks.open_by_target()).items():
            self.metrics.open_clocks.labels(target, state).set(n)
