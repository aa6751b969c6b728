"""Which agents a phone call waiting in a telephony queue may ring, best first, by the
router's own rules (pure): the platform asks, the router answers, the platform rings.

A waiting call is routed as a phone ticket nobody knows more about yet: normal priority,
no skill, tier or region required, a standard customer, in the configured language. The
agents who may take it are those `ineligibility` lets through (online, a phone slot free,
the language...); their order is the one `choose` gives, applied again to those left.
Several calls asked about at once share the roster as `place` does: each call's first
agent has one phone slot fewer for the next call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from s8_router.domain.model import AgentState, TicketToRoute
from s8_router.domain.policy import RoutingPolicy, channel_kind, choose
from s8_shared.contracts import Channel


def call_ticket(call_id: str, policy: RoutingPolicy, now: datetime, language: str) -> TicketToRoute:
    return TicketToRoute(
        ticket_id=f"call:{call_id}",
        channel_kind=channel_kind(policy, Channel.PHONE.value),
        priority="normal",
        required_skills=(),
        language=language,
        tier_required=None,
        region=None,
        customer_tier="standard",
        waiting_since=now,
    )


def ring_order(
    ticket: TicketToRoute,
    agents: Sequence[AgentState],
    policy: RoutingPolicy,
    now: datetime,
    limit: int,
) -> list[AgentState]:
    """The agents who may take `ticket`, at most `limit`, in the order `choose` picks them:
    the best, then the best of the others, and so on."""
    left = list(agents)
    order: list[AgentState] = []
    cursor: str | None = None
    while left and len(order) < limit:
        decision = choose(ticket, left, policy, now, cursor)
        if decision.agent_id is None:
            break
        picked = next(a for a in left if a.agent_id == decision.agent_id)
        order.append(picked)
        left.remove(picked)
        if decision.reason == "round_robin":
            cursor = decision.agent_id
    return order


def ring_lists(
    call_ids: Sequence[str],
    agents: Sequence[AgentState],
    policy: RoutingPolicy,
    now: datetime,
    *,
    language: str,
    limit: int,
) -> list[tuple[str, list[AgentState]]]:
    """Each call with the agents it may ring, in the order asked."""
    roster = list(agents)
    lists = []
    for call_id in call_ids:
        ticket = call_ticket(call_id, policy, now, language)
        order = ring_order(ticket, roster, policy, now, limit)
        lists.append((call_id, order))
        if order:  # the first agent will most likely answer: one slot fewer for the next
            first = order[0]
            active = dict(first.active)
            active[ticket.channel_kind] = active.get(ticket.channel_kind, 0) + 1
            roster[roster.index(first)] = replace(first, active=active)
    return lists
