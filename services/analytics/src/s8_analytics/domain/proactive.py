"""Proactive support KPIs: contacts s8 started about known problems, the tickets they
spared, incidents per problem and the proactive contact rate. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from s8_analytics.domain.kpis import rate

DEFINITIONS = {
    "proactive_contacts": "Notices about a known problem sent to customers who had not written in about it, in the window.",
    "tickets_avoided": "Customers told proactively about a problem who never opened a ticket linked to it.",
    "incidents": "Tickets linked to the problem (by intake's matching or by an agent).",
}


@dataclass(frozen=True, slots=True)
class Notice:
    problem_id: str
    customer_id: str
    proactive: bool


@dataclass(frozen=True, slots=True)
class Incident:
    problem_id: str
    customer_id: str
    ticket_id: str


def proactive_report(
    notices: Iterable[Notice],
    incidents: Iterable[Incident],
    inbound_tickets: int,
    problems: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """`notices` sent in the window; `incidents` of the problems those notices were about
    (whenever linked); `inbound_tickets` created in the window; `problems` by id."""
    notices = list(notices)
    proactive = [n for n in notices if n.proactive]
    told: dict[str, set[str]] = {}
    for n in proactive:
        told.setdefault(n.problem_id, set()).add(n.customer_id)
    wrote: dict[str, set[str]] = {}
    tickets: dict[str, set[str]] = {}
    for i in incidents:
        wrote.setdefault(i.problem_id, set()).add(i.customer_id)
        tickets.setdefault(i.problem_id, set()).add(i.ticket_id)
    per_problem = []
    for problem_id in sorted(set(told) | set(tickets)):
        info = problems.get(problem_id, {})
        per_problem.append(
            {
                "problem_id": problem_id,
                "title": info.get("title"),
                "status": info.get("status"),
                "customers_told": len(told.get(problem_id, set())),
                "incidents": len(tickets.get(problem_id, set())),
                "tickets_avoided": len(told.get(problem_id, set()) - wrote.get(problem_id, set())),
            }
        )
    contacts = len(proactive)
    return {
        "proactive_contacts": contacts,
        "notices_sent": len(notices),
        "tickets_avoided": sum(p["tickets_avoided"] for p in per_problem),
        "proactive_contact_rate": asdict(rate(contacts, contacts + inbound_tickets)),
        "problems": per_problem,
    }
