"""Scale out: two processes of every service on the same consumer groups and databases keep
every guarantee under a steady load — each message makes one ticket (or joins its
conversation's), each ticket is decided, clocked and counted once, no agent ever holds more
than their capacity — and both replicas of each service really share the work."""

import asyncio
import json
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from chaos import lagging
from procs import (
    REPO,
    SERVICES,
    LocalInfra,
    Services,
    http_get,
    register_agents,
)
from pymongo import AsyncMongoClient
from roster import ROSTER
from scale_out import (
    PATIENT_SLA,
    PORT_BASE,
    RELEASES,
    ROUTER_JOBS,
    SOLVES,
    Desk,
    Events,
    Load,
    metrics,
    solved,
    total,
)

from s8_shared import topics
from s8_shared.kafka.provision import delete_namespace, provision_topics
from s8_testing.infra import Infra

pytestmark = pytest.mark.e2e


def missing(load: Load, events: Events, services: Services, desk: Desk) -> list[str]:
    """What the complete expected state still lacks (nothing once it is reached)."""
    created = {e["payload"]["ticket_id"] for e in events.of("tickets", "ticket.created")}
    added = {e["payload"]["message"]["message_id"] for e in events.of("tickets", "ticket.message_added")}  # fmt: skip
    decided = {e["payload"]["ticket_id"] for e in events.of("assignments", "ticket.assigned", "ticket.queued")}  # fmt: skip
    clocked = {e["payload"]["ticket_id"] for e in events.of("sla", "sla.clock_started")}
    counted = sum(total(services.ports[n], "s8_kpi_tickets_created_total") for n in services.instances("s8_analytics"))  # fmt: skip
    gaps = {
        "tickets created": len(load.tickets - created),
        "follow-ups added": len(load.follow_ups.keys() - added),
        "tickets decided": len(load.tickets - decided),
        "SLA clocks started": len(load.tickets - clocked),
        "tickets analytics counted": max(0, len(load.tickets) - int(counted)),
        "tickets solved": SOLVES - len(desk.solved & solved(events)),
    }
    return [f"{n} {what}" for what, n in gaps.items() if n]


async def wait_complete(load: Load, events: Events, services: Services, desk: Desk, within: float) -> None:  # fmt: skip
    deadline = time.monotonic() + within
    while gaps := missing(load, events, services, desk):
        events.check()
        desk.check()
        assert time.monotonic() < deadline, f"not complete after {within:.0f}s: missing {', '.join(gaps)}"  # fmt: skip
        await asyncio.sleep(1)
    # Complete; now every consumer group has handled everything (nothing more is coming),
    # and we have read everything they published.
    while behind := await lagging(services.infra.bootstrap, services.ns):
        assert time.monotonic() < deadline, f"consumer groups still behind: {behind}"
        await asyncio.sleep(1)
    await events.read_to_end()


def check_once(load: Load, events: Events) -> None:
    """One ticket.created per ticket (none for a follow-up), one message_added per follow-up,
    one clock per ticket and target, and no ticket assigned twice."""
    created: dict[str, set[str]] = defaultdict(set)
    for e in events.of("tickets", "ticket.created"):
        created[e["payload"]["ticket_id"]].add(e["event_id"])
    assert set(created) == load.tickets, "tickets created for messages that should not make one"
    assert {t: ids for t, ids in created.items() if len(ids) > 1} == {}
    added: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for e in events.of("tickets", "ticket.message_added"):
        added[e["payload"]["message"]["message_id"]].add((e["event_id"], e["payload"]["ticket_id"]))  # fmt: skip
    for dedup, ticket_id in load.follow_ups.items():
        assert [t for _, t in added[dedup]] == [ticket_id], dedup
    clocks: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in events.of("sla", "sla.clock_started"):
        clocks[(e["payload"]["ticket_id"], e["payload"]["target"])].add(e["payload"]["clock_id"])
    assert {k: ids for k, ids in clocks.items() if len(ids) > 1} == {}
    assigned: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for e in events.of("assignments", "ticket.assigned"):
        assigned[e["payload"]["ticket_id"]].add((e["event_id"], e["payload"]["agent_id"]))
    assert {t: a for t, a in assigned.items() if len(a) > 1} == {}


def peak_loads(events: Events) -> dict[tuple[str, str], int]:
    """The most tickets of each kind each agent held at once, replaying the events in time
    order: +1 at a ticket.assigned, -1 at its ticket's solving. A slot is claimed before its
    assignment is announced and freed only after the router reads the solving, so the replay
    never shows more than the agent really held. Until agents start solving, loads only grow
    and the replay is exact: an agent given one slot twice while both router replicas drain
    the queue into the same agents shows as over capacity."""
    given = {e["payload"]["ticket_id"]: e for e in events.of("assignments", "ticket.assigned")}
    changes = [(e["occurred_at"], 1, e["payload"]["ticket_id"]) for e in given.values()]
    for e in events.of("tickets", "ticket.status_changed"):
        if e["payload"]["to_status"] == "solved" and e["payload"]["ticket_id"] in given:
            changes.append((e["occurred_at"], -1, e["payload"]["ticket_id"]))
    load: Counter[tuple[str, str]] = Counter()
    peak: Counter[tuple[str, str]] = Counter()
    for _, delta, ticket_id in sorted(changes, key=lambda c: (datetime.fromisoformat(c[0]), c[1])):  # fmt: skip
        p = given[ticket_id]["payload"]
        load[(p["agent_id"], p["channel_kind"])] += delta
        peak[(p["agent_id"], p["channel_kind"])] = max(peak[(p["agent_id"], p["channel_kind"])], load[(p["agent_id"], p["channel_kind"])])  # fmt: skip
    return dict(peak)


def check_capacity(events: Events) -> None:
    """No agent ever held more tickets of a kind than their capacity; some agents were full
    and queued tickets got slots (else the test proves nothing). No ticket was moved between
    agents (the SLA targets are out of reach), so only solving frees a slot."""
    assert [e["type"] for e in events.of("assignments", *RELEASES)] == []
    capacity = {(a["agent_id"], kind): n for a in ROSTER for kind, n in a["capacity"].items()}
    peaks = peak_loads(events)
    over = {k: f"{n} > {capacity[k]}" for k, n in peaks.items() if n > capacity[k]}
    assert over == {}, "agents held more tickets than their capacity"
    assert [k for k, n in peaks.items() if n == capacity[k]], "no agent was ever full"
    queued = {e["payload"]["ticket_id"] for e in events.of("assignments", "ticket.queued")}
    assigned = {e["payload"]["ticket_id"] for e in events.of("assignments", "ticket.assigned")}
    assert queued & assigned, "no queued ticket ever got a slot"


def router_disagrees(events: Events, router_port: int) -> list[str]:
    """Where the router's own record of each agent's load differs from its announced
    decisions: the tickets assigned to the agent and not solved."""
    holding: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    done = solved(events)
    # A decision can be announced twice (same event id): counted once.
    given = {e["payload"]["ticket_id"]: e["payload"] for e in events.of("assignments", "ticket.assigned")}  # fmt: skip
    for ticket_id, p in given.items():
        if ticket_id not in done:
            holding[p["agent_id"]].add(ticket_id)
            kinds[p["agent_id"]][p["channel_kind"]] += 1
    wrong = []
    for agent in json.loads(http_get(router_port, "/v1/agents?limit=100", "thao")):
        active = {k: n for k, n in agent["active"].items() if n}
        if active != dict(kinds[agent["agent_id"]]) or set(agent["tickets"]) != holding[agent["agent_id"]]:  # fmt: skip
            wrong.append(f"{agent['agent_id']}: router {active} {sorted(agent['tickets'])}, events {dict(kinds[agent['agent_id']])} {sorted(holding[agent['agent_id']])}")  # fmt: skip
    return wrong


async def wait_router_agrees(events: Events, router_port: int, within: float) -> None:
    """A periodic drain may still place a ticket after the groups caught up: read on."""
    deadline = time.monotonic() + within
    while wrong := router_disagrees(events, router_port):
        assert time.monotonic() < deadline, f"the router's loads differ from its decisions: {wrong}"  # fmt: skip
        await asyncio.sleep(1)
        await events.read_to_end()


async def check_holders(load: Load, events: Events, mongo_uri: str, ns: str) -> None:
    """Intake's record of who holds each ticket (the four-eyes rule on compensation, read
    from the router's decisions, the latest by time winning) names the agent the ticket was
    assigned to, nobody for a ticket still queued."""
    expected = dict.fromkeys(load.tickets)
    expected.update({e["payload"]["ticket_id"]: e["payload"]["agent_id"] for e in events.of("assignments", "ticket.assigned")})  # fmt: skip
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    try:
        holders = mongo[ns.replace(".", "_") + "s8_intake"]["ticket_holders"]
        recorded = {d["_id"]: d.get("agent_id") async for d in holders.find({})}
    finally:
        await mongo.close()
    assert {t: (recorded.get(t), a) for t, a in expected.items() if recorded.get(t) != a} == {}


def check_one_customer(load: Load, events: Events, intake_port: int) -> None:
    """A customer writing on two channels at once is one customer with both tickets."""
    customer = {e["payload"]["ticket_id"]: e["payload"]["ticket"]["customer_id"] for e in events.of("tickets", "ticket.created")}  # fmt: skip
    for pair in load.pairs:
        view = json.loads(http_get(intake_port, f"/v1/customers/{customer[pair[0]]}", "an"))
        assert set(pair) <= {t["ticket_id"] for t in view["tickets"]}, (pair, view["tickets"])


def check_counted_once(load: Load, services: Services) -> None:
    """Analytics counted each ticket once: its replicas' created counters add up to the
    tickets, and so do intake's (a ticket opened twice would count twice)."""
    for module, counter in (("s8_analytics", "s8_kpi_tickets_created_total"), ("s8_intake", "s8_intake_tickets_created_total")):  # fmt: skip
        counted = sum(total(services.ports[n], counter) for n in services.instances(module))
        assert counted == len(load.tickets), (counter, counted)


def unshared(services: Services) -> list[str]:
    """How the replicas of each service do not (yet) share the topic it exists for: each
    must hold some of its partitions (from its consumer lag gauge, refreshed every few
    seconds), none the same one, all of them together, and each must have handled records."""
    problems = []
    for module in SERVICES:
        topic = topics.INBOUND if module == "s8_intake" else topics.TICKETS
        name = topic.name(services.ns)
        held: list[set[str]] = []
        for instance in services.instances(module):
            samples = metrics(services.ports[instance])
            mine = {ls["partition"] for n, ls, _ in samples if n == "s8_kafka_consumer_lag" and ls["topic"] == name}  # fmt: skip
            if module == "s8_intake":
                handled = sum(v for n, _, v in samples if n == "s8_intake_messages_total")
            else:
                handled = sum(v for n, ls, v in samples if n == "s8_events_processed_total" and ls["topic"] == name)  # fmt: skip
            if not mine or not handled:
                problems.append(f"{instance}: partitions {sorted(mine)}, {handled:.0f} handled")
            held.append(mine)
        every = {str(p) for p in range(topic.partitions)}
        if len(held) != 2 or held[0] & held[1] or held[0] | held[1] != every:
            problems.append(f"{module}: partitions {[sorted(h) for h in held]} of {name}")
    return problems


async def wait_shared(services: Services, within: float) -> None:
    deadline = time.monotonic() + within
    while problems := unshared(services):
        assert time.monotonic() < deadline, f"replicas not sharing the work: {problems}"
        await asyncio.sleep(1)


async def test_two_replicas_of_every_service_lose_duplicate_and_overassign_nothing(
    infra: Infra, tmp_path: Path
) -> None:
    kafka_port = int(infra.kafka_bootstrap_servers.rsplit(":", 1)[1])
    mongo_port = int(infra.mongo_uri.rsplit(":", 1)[1].split("/")[0])
    local = LocalInfra(REPO / ".local" / "scaleout", kafka_port, mongo_port)
    ns = f"scale{uuid.uuid4().hex[:8]}."
    load = Load()
    await provision_topics(local.bootstrap, namespace=ns)
    (tmp_path / "sla.yaml").write_text(PATIENT_SLA, encoding="utf-8")
    env = {"S8_LOG_LEVEL": "WARNING", "S8_POLICIES_PATH": str(tmp_path / "sla.yaml"), **ROUTER_JOBS}  # fmt: skip
    services = Services(local, "scaleout", ns, PORT_BASE, replicas=2, env=env)
    events = Events(local.bootstrap, ns)
    desk = Desk(local.bootstrap, ns, events, keep=set(load.follow_ups.values()))
    try:
        await asyncio.to_thread(services.wait_ready, 150)
        events.start()
        # Half the load waits in the queue; then the agents come online, and both router
        # replicas drain it into the same agents' slots while the rest keeps coming. Then
        # agents solve tickets: each freed slot is raced for by both replicas' drains.
        half = len(load.sends) // 2
        await load.send(local.bootstrap, ns, load.sends[:half])
        await asyncio.gather(
            register_agents(local.bootstrap, ns, services.ports["s8_router"]),
            load.send(local.bootstrap, ns, load.sends[half:]),
        )
        desk.start()
        await wait_complete(load, events, services, desk, within=150)
        check_once(load, events)
        check_capacity(events)
        await wait_router_agrees(events, services.ports["s8_router#2"], within=20)
        await check_holders(load, events, local.mongo_uri, ns)
        check_counted_once(load, services)
        check_one_customer(load, events, services.ports["s8_intake#2"])
        await wait_shared(services, within=30)
    finally:
        await desk.stop()
        await events.stop()
        services.stop()
        await delete_namespace(local.bootstrap, ns)
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(local.mongo_uri)
        for db in await mongo.list_database_names():
            if db.startswith(ns.replace(".", "_")):
                await mongo.drop_database(db)
        await mongo.close()
