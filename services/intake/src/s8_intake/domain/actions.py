"""Agent actions applied to a ticket: validated by the state machine, turned into events."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from s8_intake.domain.outbound import to_customer
from s8_intake.domain.status import TransitionRefused, check_transition
from s8_intake.domain.ticket import Change, TicketState, emit, status_event
from s8_shared.contracts import (
    Author,
    Event,
    MessageInfo,
    TicketMerged,
    TicketMessageAdded,
    TicketPriorityChanged,
    TicketStatus,
    TicketTransferred,
)
from s8_shared.contracts.actions import (
    CustomerFeedback,
    Merge,
    Note,
    Reply,
    SetPriority,
    SetStatus,
    TicketAction,
    Transfer,
)

S = TicketStatus


def apply_action(state: TicketState, action: TicketAction, now: datetime) -> Change:
    """The change an agent action makes, or TransitionRefused with the reason."""
    if state.snapshot.status == S.CLOSED:
        raise TransitionRefused(
            "a closed ticket cannot change; the customer's next message opens a new one"
        )
    when = now  # the server's clock decides; the caller's `client_at` is only kept
    if isinstance(action, Reply | Note):
        return _message(state, action, when)
    if isinstance(action, SetStatus):
        return _set_status(state, action.status, when, action.reason or "agent", action.actor_id)
    if isinstance(action, SetPriority):
        return _set_priority(state, action, when)
    if isinstance(action, Transfer):
        return _transfer(state, action, when)
    if isinstance(action, Merge):
        return _merge(state, action, when)
    if isinstance(action, CustomerFeedback):
        if not (state.snapshot.deflected and state.snapshot.status == S.PENDING):
            raise TransitionRefused(
                "only a ticket answered by a FAQ auto-reply can be marked not helpful"
            )
        return _set_status(state, S.OPEN, when, "faq_not_helpful", action.actor_id)
    raise TransitionRefused(f"unknown action {action!r}")  # pragma: no cover - the union is closed


def _bump(state: TicketState, when: datetime, **updates: Any) -> TicketState:
    old = state.snapshot
    snap = old.model_copy(update={"version": old.version + 1, "updated_at": when, **updates})
    return replace(state, snapshot=snap)


def _message(state: TicketState, action: Reply | Note, when: datetime) -> Change:
    old = state.snapshot
    public = isinstance(action, Reply)
    updates: dict[str, Any] = {}
    if public:
        updates["agent_replies"] = old.agent_replies + 1
        updates["first_agent_reply_at"] = old.first_agent_reply_at or when
        if old.status == S.NEW:
            updates["status"] = S.OPEN
    new = _bump(state, when, **updates)
    snap = new.snapshot
    info = MessageInfo(
        message_id=f"action:{action.action_id}",
        author=Author.AGENT,
        author_id=action.actor_id,
        channel=state.reply_channel or old.channel,
        text=action.text,
        public=public,
        sent_at=when,
        client_at=action.client_at,
    )
    events: list[Event[Any]] = [emit(TicketMessageAdded, snap, when, message=info)]
    if snap.status != old.status:
        events.append(status_event(old.status, snap, when, "agent_replied", action.actor_id))
    if public and (outbound := to_customer(new, "reply", action.text, when)):
        events.append(outbound)
    return Change(new, events)


def _set_status(
    state: TicketState, target: TicketStatus, when: datetime, reason: str, actor: str | None
) -> Change:
    old = state.snapshot
    check_transition(old.status, target)
    updates: dict[str, Any] = {"status": target}
    if target == S.SOLVED:
        updates["solved_at"] = when
    if old.status == S.SOLVED and target == S.OPEN:
        updates["reopen_count"] = old.reopen_count + 1
        updates["solved_at"] = None
    new = _bump(state, when, **updates)
    return Change(new, [status_event(old.status, new.snapshot, when, reason, actor)])


def _set_priority(state: TicketState, action: SetPriority, when: datetime) -> Change:
    old = state.snapshot
    if action.priority == old.priority:
        raise TransitionRefused(f"the ticket is already {old.priority.value} priority")
    if old.status == S.SOLVED:
        raise TransitionRefused("reopen the ticket before changing its priority")
    new = replace(_bump(state, when, priority=action.priority), priority_locked=True)
    snap = new.snapshot
    event = emit(
        TicketPriorityChanged,
        snap,
        when,
        from_priority=old.priority,
        to_priority=snap.priority,
        actor_id=action.actor_id,
    )
    return Change(new, [event])


def _transfer(state: TicketState, action: Transfer, when: datetime) -> Change:
    old = state.snapshot
    if old.status == S.SOLVED:
        raise TransitionRefused("a solved ticket cannot be transferred; reopen it first")
    if not (action.to_team or action.to_agent_id or action.to_tier):
        raise TransitionRefused("a transfer needs a team, an agent or a tier")
    updates: dict[str, Any] = {}
    if action.to_team:
        updates["team"] = action.to_team
    if action.to_tier:
        updates["tier_required"] = action.to_tier
    new = _bump(state, when, **updates)
    snap = new.snapshot
    event = emit(
        TicketTransferred,
        snap,
        when,
        to_team=action.to_team,
        to_agent_id=action.to_agent_id,
        to_tier=action.to_tier,
        reason=action.reason,
        actor_id=action.actor_id,
    )
    return Change(new, [event])


def _merge(state: TicketState, action: Merge, when: datetime) -> Change:
    old = state.snapshot
    if action.into_ticket_id == old.ticket_id:
        raise TransitionRefused("a ticket cannot be merged into itself")
    new = _bump(state, when, status=S.CLOSED, merged_into=action.into_ticket_id)
    snap = new.snapshot
    event = emit(
        TicketMerged, snap, when, into_ticket_id=action.into_ticket_id, actor_id=action.actor_id
    )
    return Change(new, [event])
