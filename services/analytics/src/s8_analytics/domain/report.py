"""A KPI report from facts (plain documents), grouped by one dimension. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from s8_analytics.domain.kpis import (
    Handling,
    SlaOutcome,
    SolvedTicket,
    aht,
    csat,
    fcr,
    nps,
    rate,
    sla_compliance,
)
from s8_analytics.domain.stats import summary
from s8_shared.business_time.calendar import BusinessCalendar, business_seconds_between

DIMENSIONS = ("channel", "priority", "category", "team", "customer_tier", "agent")
Doc = Mapping[str, Any]


def dimension_of(ticket: Doc, agents: Mapping[str, Doc], dimension: str | None) -> str:
    if dimension is None:
        return "all"
    if dimension == "agent":
        return str((agents.get(ticket["_id"]) or {}).get("agent_id") or "unassigned")
    return str(ticket.get(dimension) or "unknown")


def build_report(
    *,
    created: Sequence[Doc],
    solved: Sequence[Doc],
    agents: Mapping[str, Doc],
    sla: Sequence[Doc],
    surveys_sent: Sequence[Doc],
    surveys_answered: Sequence[Doc],
    tickets_by_id: Mapping[str, Doc],
    dimension: str | None,
    calendar: BusinessCalendar | None = None,
) -> dict[str, dict[str, Any]]:
    """KPIs per group. Tickets count in the window they were created (volume, first
    response, deflection, handoff) or solved (resolution, FCR, AHT, reopens); SLA clocks
    when they finished; surveys when they were sent or answered."""
    groups: dict[str, dict[str, list[Any]]] = {}

    def bucket(ticket: Doc | None) -> dict[str, list[Any]]:
        key = dimension_of(ticket, agents, dimension) if ticket else "unknown"
        return groups.setdefault(
            key, {k: [] for k in ("created", "solved", "sla", "sent", "answered")}
        )

    for t in created:
        bucket(t)["created"].append(t)
    for t in solved:
        bucket(t)["solved"].append(t)
    for c in sla:
        bucket(tickets_by_id.get(c.get("ticket_id", "")))["sla"].append(c)
    for s in surveys_sent:
        bucket(tickets_by_id.get(s.get("ticket_id") or ""))["sent"].append(s)
    for s in surveys_answered:
        bucket(tickets_by_id.get(s.get("ticket_id") or ""))["answered"].append(s)
    return {key: _kpis(g, agents, calendar) for key, g in sorted(groups.items())}


def _seconds(later: Any, earlier: Any) -> float | None:
    return (later - earlier).total_seconds() if later and earlier else None


def _business(cal: BusinessCalendar | None, later: Any, earlier: Any) -> float | None:
    return business_seconds_between(cal, earlier, later) if cal and later and earlier else None


def _kpis(
    g: Mapping[str, list[Any]], agents: Mapping[str, Doc], cal: BusinessCalendar | None
) -> dict[str, Any]:
    created, solved = g["created"], g["solved"]
    frt_business = [
        s
        for t in created
        if (s := _business(cal, t.get("first_agent_reply_at"), t.get("created_at"))) is not None
    ]
    resolution_business = [
        s
        for t in solved
        if (s := _business(cal, t.get("solved_at"), t.get("created_at"))) is not None
    ]
    frt = [
        s
        for t in created
        if (s := _seconds(t.get("first_agent_reply_at"), t.get("created_at"))) is not None
    ]
    resolution = [
        s for t in solved if (s := _seconds(t.get("solved_at"), t.get("created_at"))) is not None
    ]
    handlings = [
        Handling(
            agents[t["_id"]]["first_assigned_at"],
            t["solved_at"],
            float(agents[t["_id"]].get("paused_seconds") or 0),
        )
        for t in solved
        if t["_id"] in agents and agents[t["_id"]].get("first_assigned_at") and t.get("solved_at")
    ]
    queue = [
        s
        for t in created
        if (a := agents.get(t["_id"]))
        and (s := _seconds(a.get("first_assigned_at"), a.get("queued_at"))) is not None
    ]
    csat_scores = [
        int(s["score"])
        for s in g["answered"]
        if s.get("kind") == "csat" and s.get("score") is not None
    ]
    nps_scores = [
        int(s["score"])
        for s in g["answered"]
        if s.get("kind") == "nps" and s.get("score") is not None
    ]
    csat_sent = len([s for s in g["sent"] if s.get("kind") == "csat"])
    return {
        "tickets_created": len(created),
        "tickets_solved": len(solved),
        "first_response_seconds": asdict(summary(frt)),
        "resolution_seconds": asdict(summary(resolution)),
        "first_response_business_seconds": asdict(summary(frt_business)),
        "resolution_business_seconds": asdict(summary(resolution_business)),
        "fcr": asdict(
            fcr(
                [
                    SolvedTicket(int(t.get("agent_replies", 0)), int(t.get("reopen_count", 0)) > 0)
                    for t in solved
                ]
            )
        ),
        "aht_seconds": asdict(aht(handlings)),
        "queue_seconds": asdict(summary(queue)),
        "csat": asdict(csat(csat_scores, csat_sent)),
        "nps": asdict(nps(nps_scores)),
        "sla_compliance": {
            k: asdict(v)
            for k, v in sla_compliance(
                [
                    SlaOutcome(c["target"], bool(c.get("breached")), bool(c.get("cancelled")))
                    for c in g["sla"]
                ]
            ).items()
        },
        "faq_deflection_rate": asdict(
            rate(sum(1 for t in created if t.get("deflected")), len(created))
        ),
        "reopen_rate": asdict(
            rate(sum(1 for t in solved if int(t.get("reopen_count", 0)) > 0), len(solved))
        ),
        "transfer_rate": asdict(
            rate(
                sum(
                    1 for t in created if int((agents.get(t["_id"]) or {}).get("transfers", 0)) > 0
                ),
                len(created),
            )
        ),
    }
