"""`make run`: the five s8 services as processes, realistic traffic, and a live view.

Starts each service (`python -m s8_<name>`), waits until each answers /readyz, sends
customer messages to `support.inbound.v1`, and every few seconds prints what every
service has done, read from the services' own /metrics endpoints. A support lead declares
a known problem (a payment outage in Hà Nội), updates and resolves it, and approves the
compensation agents offer above their limits. Ctrl-C (or --duration) stops the traffic and
every service; no process is left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from s8_shared.kafka.provision import provision_topics
from s8_shared.settings import LOCAL_ISSUER
from s8_testing.tokens import DEMO_PASSWORD, ProviderTokens

sys.path.insert(0, str(Path(__file__).parent))
import kafka_access
from agents import AgentStats, simulate_agents, simulate_customers, simulate_lead
from bench_desk_report import Readings, latency_summary
from desk_streams import follow
from kafka_access import PASSWORD as KAFKA_PASSWORD
from native_demo import NativePorts, NativeStats, channel_env, channel_lines, send_native
from native_outlets import LocalOutlets, OutletStats
from proactive_demo import LEAD, load_crm, run_problem
from prometheus import LocalPrometheus
from roster import ROSTER
from run_screen import Screen, summary
from traffic import TrafficGenerator

REPO = Path(__file__).resolve().parents[2]
LOGS = REPO / ".local" / "logs"
SERVICES = [
    ("intake", "s8_intake", 8001),
    ("router", "s8_router", 8002),
    ("sla-monitor", "s8_sla_monitor", 8003),
    ("survey", "s8_survey", 8004),
    ("analytics", "s8_analytics", 8005),
    ("desk", "s8_desk", 8006),
    ("channels", "s8_channels", 8007),
]


@dataclass
class Sent:
    message: int = 0
    resend: int = 0
    malformed: int = 0

    def total(self) -> int:
        return self.message + self.resend + self.malformed


@dataclass
class Stack:
    namespace: str
    bootstrap: str
    port_base: int = 8000
    fast_surveys: bool = True
    sasl: str | None = None  # the broker's SASL listener: each service as its own Kafka user
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        for name, module, port in self.services():
            env = {
                **os.environ,
                "S8_HTTP_PORT": str(port),
                "S8_TOPIC_NAMESPACE": self.namespace,
                "S8_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            }
            if self.sasl:  # its own principal, held to its ACLs (topics provisioned beforehand)
                env.update(
                    S8_KAFKA_BOOTSTRAP_SERVERS=self.sasl,
                    S8_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
                    S8_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
                    S8_KAFKA_SASL_USERNAME=f"s8-{name}",
                    S8_KAFKA_SASL_PASSWORD=KAFKA_PASSWORD,
                    S8_PROVISION_TOPICS="false",
                )
            if name == "desk":  # writes go to their owners as the signed-in agent
                env["S8_INTAKE_URL"] = f"http://127.0.0.1:{self.port_base + 1}"
                env["S8_ROUTER_URL"] = f"http://127.0.0.1:{self.port_base + 2}"
            if name == "channels":  # the demo platforms' accounts, the local relay and APIs
                native = NativePorts.for_stack(self.port_base)
                env.update(channel_env(self.port_base, native.mail_sink, native.platform))
            if self.fast_surveys:
                env.setdefault("S8_CSAT_DELAY_SECONDS", "5")
            if self.namespace:  # a namespaced stack also gets its own databases
                db_prefix = self.namespace.replace(".", "_")
                env["S8_MONGO_DATABASE"] = f"{db_prefix}{module}"
            log = (LOGS / f"{name}.log").open("ab")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", module],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def services(self) -> list[tuple[str, str, int]]:
        return [(name, module, port - 8000 + self.port_base) for name, module, port in SERVICES]

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        pending = {name: port for name, _, port in self.services()}
        while pending and time.monotonic() < deadline:
            for name, port in list(pending.items()):
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise SystemExit(
                        f"{name} exited with {proc.returncode}; see {LOGS / (name + '.log')}"
                    )
                if _ready(port):
                    print(f"  {name:<12} ready")
                    del pending[name]
            time.sleep(0.3)
        if pending:
            raise SystemExit(
                f"not ready after {timeout:.0f}s: {', '.join(pending)} (logs in {LOGS})"
            )

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 25
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"  {name} did not stop in time; killing it")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
            return bool(resp.status == 200)
    except Exception:
        return False


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except Exception:
        return {}
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def metric_sum(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **match: str
) -> int:
    total = 0.0
    for (sample_name, labels), value in samples.items():
        if sample_name == name and all(dict(labels).get(k) == v for k, v in match.items()):
            total += value
    return int(total)


DRAIN_SECONDS = 60.0
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def snapshot(stack: Stack) -> dict[str, Samples]:
    """Every service's metrics, intake's first."""
    return {name: scrape(port) for name, _, port in stack.services()}


def flow_counts(stack: Stack, metrics: dict[str, Samples]) -> tuple[int, ...]:
    """Messages intake handled, ticket events it published, and each service's applied ones."""
    tickets_topic = f"{stack.namespace}support.tickets.v1"
    intake = metrics.get("intake", {})
    counts = [
        metric_sum(intake, "s8_events_processed_total", type="inbound")
        + metric_sum(intake, "s8_dead_letters_total"),
        metric_sum(intake, "s8_intake_events_published_total", topic="support.tickets.v1"),
    ]
    for name, m in metrics.items():
        if name not in ("intake", "channels"):  # channels reads no ticket events
            counts.append(  # handled: applied, skipped, or a duplicate of one applied before
                metric_sum(m, "s8_events_processed_total", topic=tickets_topic)
            )
    return tuple(counts)


def drained(
    stack: Stack, sent: Sent, before: tuple[int, ...] | None
) -> tuple[bool, tuple[int, ...], dict[str, Samples]]:
    """Intake has handled every message sent, every service every ticket event published, and
    nothing moved since the previous snapshot; the snapshot, for a view of a settled flow."""
    metrics = snapshot(stack)
    counts = flow_counts(stack, metrics)
    handled, published, *applied = counts
    settled = handled >= sent.total() and all(a == published for a in applied)
    return settled and counts == before, counts, metrics


def live_view(
    stack: Stack,
    sent: Sent,
    started: float,
    agents: AgentStats | None = None,
    metrics: dict[str, Samples] | None = None,
    native: tuple[NativeStats, OutletStats] | None = None,
) -> str:
    """The view of `metrics` (a snapshot of every service), scraped now if not given."""
    metrics = metrics if metrics is not None else snapshot(stack)
    lines = [
        f"\n── s8 live · {time.monotonic() - started:5.0f}s ─────────────────────────────────────────"
    ]
    lines.append(
        f"  traffic    sent {sent.total():>5}  (messages {sent.message}, re-sent {sent.resend}, malformed {sent.malformed})"
    )
    if agents is not None:
        lines.append(
            f"  agents     replies {agents.replies:>4}   notes {agents.notes:>3}   solved {agents.solved:>4}"
            f"   compensation offered {agents.offers:>3}   lead approved {agents.approved:>3}"
            f" rejected {agents.rejected:>3}"
        )
    ports = {name: port for name, _, port in stack.services()}
    for name, m in metrics.items():
        if not m:
            lines.append(f"  {name:<11} not answering")
            continue
        if name == "channels":
            if native is not None:
                lines += channel_lines(m, *native)
            continue
        tickets_topic = f"{stack.namespace}support.tickets.v1"
        # Handled = applied, or skipped on purpose (a type that service does not need).
        applied = metric_sum(
            m, "s8_events_processed_total", outcome="applied", topic=tickets_topic
        ) + metric_sum(m, "s8_events_processed_total", outcome="skipped", topic=tickets_topic)
        dup = metric_sum(m, "s8_events_processed_total", outcome="duplicate", topic=tickets_topic)
        dead = metric_sum(m, "s8_dead_letters_total")
        if name == "intake":
            applied = metric_sum(m, "s8_events_processed_total", outcome="applied", type="inbound")
            dup = metric_sum(m, "s8_events_processed_total", outcome="duplicate", type="inbound")
            actions = metric_sum(m, "s8_intake_actions_total")
            lines.append(
                f"  {name:<11} messages applied {applied:>5}   duplicates skipped {dup:>3}   dead letters {dead:>3}"
                f"   agent actions {actions:>4}"
            )
            lines.append(
                f"  {'':<11} tickets created {metric_sum(m, 's8_intake_tickets_created_total'):>5}"
                f"   ticket events published {metric_sum(m, 's8_intake_events_published_total', topic='support.tickets.v1'):>5}"
                f"   to customers {metric_sum(m, 's8_intake_events_published_total', topic='support.outbound.v1'):>4}"
            )
            lines.append(
                f"  {'':<11} auto-replies ignored {metric_sum(m, 's8_intake_messages_skipped_total'):>3}"
                f"   FAQ deflected {metric_sum(m, 's8_intake_faq_deflections_total'):>3}"
                f"   bot handoffs {metric_sum(m, 's8_intake_bot_conversations_total', handoff='yes'):>3}"
                f"/{metric_sum(m, 's8_intake_bot_conversations_total'):<3}"
                f"   negative messages {metric_sum(m, 's8_intake_negative_messages_total'):>3}"
            )
            offers = {
                s: metric_sum(m, "s8_intake_compensation_offers_total", status=s)
                for s in ("granted", "pending_approval", "approved", "rejected")
            }
            # An offer sent for approval counts again when decided.
            pending = offers["pending_approval"] - offers["approved"] - offers["rejected"]
            lines.append(
                f"  {'':<11} problem notices sent {metric_sum(m, 's8_intake_problem_notices_total'):>3}"
                f"   incidents linked {metric_sum(m, 's8_intake_incidents_linked_total'):>3}"
                f"   compensation granted {offers['granted']:>3}   approved {offers['approved']:>3}"
                f"   pending {max(0, pending):>3}   rejected {offers['rejected']:>3}"
            )
            continue
        lines.append(
            f"  {name:<11} ticket events applied {applied:>5}   duplicates skipped {dup:>3}   dead letters {dead:>3}"
        )
        if name == "router":
            decided = {
                t: metric_sum(m, "s8_router_decisions_total", type=f"ticket.{t}")
                for t in ("assigned", "queued", "escalated", "unassigned")
            }
            lines.append(
                f"  {'':<11} assigned {decided['assigned']:>4}   queued {decided['queued']:>4}"
                f"   escalated {decided['escalated']:>3}   handed back {decided['unassigned']:>3}"
                f"   agents online {metric_sum(m, 's8_router_agents_online'):>2}"
            )
        if name == "survey":
            lines.append(
                f"  {'':<11} surveys sent {metric_sum(m, 's8_survey_sent_total'):>4}"
                f"   answered {metric_sum(m, 's8_survey_answers_total'):>4}"
                f"   follow-ups {metric_sum(m, 's8_survey_followups_total'):>3}"
            )
        if name == "desk":
            lines.append(
                f"  {'':<11} streams open {metric_sum(m, 's8_desk_open_streams'):>3}"
                f"   notices pushed {metric_sum(m, 's8_desk_notices_total'):>4}"
            )
        if name == "sla-monitor":
            sla = {
                t: metric_sum(m, "s8_sla_clock_events_total", type=f"sla.{t}")
                for t in ("clock_started", "warning", "breached", "met", "paused")
            }
            lines.append(
                f"  {'':<11} clocks started {sla['clock_started']:>4}   met {sla['met']:>4}"
                f"   warnings {sla['warning']:>3}   breaches {sla['breached']:>3}   paused {sla['paused']:>3}"
            )
    queues = _get_json(ports["router"], "/v1/queues")
    if queues:
        waiting = "  ".join(f"{k} {v}" for k, v in queues["waiting_by_priority"].items())
        lines.append(f"  router      waiting for an agent: {waiting}")
    volume = _get_json(ports["analytics"], "/v1/kpis/volume")
    if volume:
        by_channel = ", ".join(f"{k} {v}" for k, v in volume["by_channel"].items() if v)
        lines.append(f"  analytics   {volume['total']} tickets by channel: {by_channel}")
    return "\n".join(lines)


# The demo's callers get their tokens from the local Keycloak's `s8` realm
# (deploy/local/keycloak/s8-realm.json): `an` the admin, `ha` the lead, `thao` the analyst,
# each agent for their own presence, the chat widget's channel system for survey answers.
TOKENS = ProviderTokens(os.environ.get("S8_OIDC_ISSUER", LOCAL_ISSUER))


def _send_json(port: int, method: str, path: str, body: Any = None, as_: str = "an") -> Any:
    """One JSON request made by `as_` with their token; an error status raises
    `urllib.error.HTTPError`."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"content-type": "application/json", **TOKENS.headers_sync(as_)},
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read())


def _get_json(port: int, path: str) -> Any:
    try:
        return _send_json(port, "GET", path, as_="thao")
    except Exception:
        return None


async def wait_or_timeout(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


async def send_traffic(
    bootstrap: str, namespace: str, rate: float, sent: Sent, stop: asyncio.Event
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    gen = TrafficGenerator()
    try:
        while not stop.is_set():
            out = gen.next()
            await producer.send_and_wait(f"{namespace}support.inbound.v1", out.value, key=out.key)
            setattr(sent, out.kind, getattr(sent, out.kind) + 1)
            await wait_or_timeout(stop, 1.0 / rate)
    finally:
        await producer.stop()


async def main_async(args: argparse.Namespace, stack: Stack) -> None:
    stop = asyncio.Event()
    interrupted = asyncio.Event()  # Ctrl-C or SIGTERM: stop at once, without waiting for the flow
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        interrupted.set()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    sent = Sent()
    started, started_at = time.monotonic(), datetime.now(UTC)
    screen = Screen()
    agents = AgentStats()
    ports = {name: port for name, _, port in stack.services()}

    async def set_presence(agent_id: str, presence: str) -> None:
        await asyncio.to_thread(
            _send_json,
            ports["router"],
            "PUT",
            f"/v1/agents/{agent_id}/presence",
            {"presence": presence},
            agent_id,  # an agent sets their own presence
        )

    async def intake(method: str, path: str, body: Any) -> Any:  # the lead's desk
        return await asyncio.to_thread(_send_json, ports["intake"], method, path, body, LEAD)

    async def crm(method: str, path: str, body: Any) -> Any:  # the CRM, an admin's client
        return await asyncio.to_thread(_send_json, ports["intake"], method, path, body, "an")

    native_ports = NativePorts.for_stack(stack.port_base)
    outlets = await LocalOutlets(native_ports.mail_sink, native_ports.platform).__aenter__()
    native_stats = NativeStats()
    in_ha_noi = await load_crm(crm)
    print(f"==> CRM attributes for the demo customers ({in_ha_noi} in Hà Nội, the rest in HCMC)")
    traffic = asyncio.create_task(
        send_traffic(args.bootstrap, args.namespace, args.rate, sent, stop)
    )
    # The platforms' own webhooks and a mail relay, signed their way (a few forged: refused).
    native = asyncio.create_task(send_native(native_ports, stop, native_stats))

    async def answer(survey_id: str, score: int, comment: str | None) -> None:
        with contextlib.suppress(Exception):  # a refused answer is part of the demo, not a failure
            await asyncio.to_thread(
                _send_json,
                ports["survey"],
                "POST",
                f"/v1/surveys/{survey_id}/answers",
                {"score": score, "comment": comment},
                "channel-live-chat",  # the rating buttons in the chat widget
            )

    async def problem_demo() -> None:
        try:
            await run_problem(intake, stop, started, args.duration, say=screen.announce)
        except OSError as exc:  # intake refused or is gone: the rest of the demo goes on
            screen.announce(f"==> problem demo stopped: {exc}")

    customers = asyncio.create_task(
        simulate_customers(args.bootstrap, args.namespace, stop, answer)
    )
    desk = asyncio.create_task(
        simulate_agents(args.bootstrap, args.namespace, stop, agents, set_presence)
    )
    lead = asyncio.create_task(simulate_lead(LEAD, stop, intake, agents))
    problem = asyncio.create_task(problem_demo())
    # Each demo agent's inbox stream, open as a browser keeps it: what the desk pushes live.
    readings = Readings()
    desk_http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['desk']}", timeout=httpx.Timeout(10.0, read=None))  # fmt: skip
    streams = [asyncio.create_task(follow(desk_http, m["agent_id"], readings, TOKENS)) for m in ROSTER]  # fmt: skip

    def with_streams(view: str) -> str:
        read = latency_summary(readings.samples)["all"]
        p99 = f"{read['p99']:,.0f} ms" if read.get("p99") is not None else "—"
        return f"{view}\n  {'agents':<11} inbox streams {len(streams)}   notices read {read['n']:>4}   event → browser p99 {p99}"  # fmt: skip

    try:
        while not stop.is_set():
            await wait_or_timeout(stop, args.every)
            screen.show(
                with_streams(
                    await asyncio.to_thread(
                        live_view,
                        stack,
                        sent,
                        started,
                        agents,
                        None,
                        (native_stats, outlets.stats()),
                    )
                )
            )
            if args.duration and time.monotonic() - started >= args.duration:
                stop.set()
    finally:
        stop.set()
        await traffic
        await native
        await desk
        await customers
        await lead
        await problem
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
        await desk_http.aclose()
    # The last view counts everything sent: wait until it has flowed through (bounded).
    deadline = time.monotonic() + DRAIN_SECONDS
    counts: tuple[int, ...] | None = None
    while True:
        done, counts, metrics = await asyncio.to_thread(drained, stack, sent, counts)
        if done or interrupted.is_set() or time.monotonic() > deadline:
            break
        await wait_or_timeout(interrupted, 0.5)
    screen.show(
        with_streams(
            await asyncio.to_thread(
                live_view, stack, sent, started, agents, metrics, (native_stats, outlets.stats())
            )
        )
    )
    await outlets.__aexit__(None, None, None)
    period = urllib.parse.urlencode({"from": started_at.isoformat()})
    with contextlib.suppress(OSError, ValueError):  # no summary rather than a failed run
        kpis = await asyncio.to_thread(_send_json, ports["analytics"], "GET", f"/v1/kpis?{period}", None, "thao")  # fmt: skip
        print(summary(kpis), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=3.0, help="messages per second")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between live views")
    parser.add_argument(
        "--duration", type=float, default=0.0, help="stop after N seconds (0: until Ctrl-C)"
    )
    parser.add_argument(
        "--port-base", type=int, default=8000, help="services listen on base+1..base+5"
    )
    parser.add_argument("--namespace", default=os.environ.get("S8_TOPIC_NAMESPACE", ""))
    parser.add_argument(
        "--real-sla",
        action="store_true",
        help="keep the shipped SLA policies (minutes, business hours)",
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("S8_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--prometheus",
        action="store_true",
        help="also run a Prometheus scraping the five services, with the chart's alert rules",
    )
    parser.add_argument("--prometheus-port", type=int, default=9090)
    parser.add_argument("--scrape-interval", default="5s", help="Prometheus scrape interval")
    parser.add_argument(
        "--sasl",
        default=os.environ.get("S8_KAFKA_SASL_BOOTSTRAP"),
        help="the broker's SASL listener for the services' own Kafka users (infra.sh's: the "
        "bootstrap port + 2; '' keeps them on PLAINTEXT)",
    )
    args = parser.parse_args()
    if args.sasl is None:
        host, port = args.bootstrap.split(",")[0].rsplit(":", 1)
        args.sasl = f"{host}:{int(port) + 2}"

    stack = Stack(args.namespace, args.bootstrap, args.port_base, fast_surveys=not args.real_sla, sasl=args.sasl or None)  # fmt: skip
    if stack.sasl:
        asyncio.run(provision_topics(args.bootstrap, namespace=args.namespace))
        print(f"==> {kafka_access.apply(args.bootstrap, args.namespace)}; services on {stack.sasl} as themselves")  # fmt: skip
    prometheus: LocalPrometheus | None = None
    t0 = time.monotonic()
    print("==> starting the seven s8 services (logs in .local/logs/)")
    stack.start()
    try:
        stack.wait_ready()
        print(f"==> all services ready in {time.monotonic() - t0:.1f}s")
        ports = {name: port for name, _, port in stack.services()}
        if args.prometheus:
            prometheus = LocalPrometheus(
                ports,
                port=args.prometheus_port,
                scrape_interval=args.scrape_interval,
            )
            prometheus.start()
            prometheus.wait_ready()
            print(f"==> Prometheus on {prometheus.url} (alerts: {prometheus.url}/alerts)")
        for member in ROSTER:
            _send_json(
                ports["router"],
                "PUT",
                f"/v1/agents/{member['agent_id']}",
                {**member, "presence": "online"},
            )
        print(
            f"==> {len(ROSTER)} agents online (L1, L2, L3 lead, field technicians in Hà Nội and TP. Hồ Chí Minh)"
        )
        if not args.real_sla:
            policies = yaml.safe_load(
                (Path(__file__).parent / "demo_sla_policies.yaml").read_text(encoding="utf-8")
            )
            _send_json(ports["sla-monitor"], "PUT", "/v1/policies", policies)
            print(
                "==> demo SLA policy: targets in seconds so warnings and breaches show (--real-sla keeps the shipped ones)"
            )
        for name, _, port in stack.services():
            print(f"    {name:<12} http://127.0.0.1:{port}/docs   /metrics   /asyncapi.json")
        people = ", ".join(m["agent_id"] for m in ROSTER)
        print(
            f"==> the agents' inbox: http://127.0.0.1:{ports['desk']}/inbox — sign in as one of"
            f" {people} (agents; {LEAD} leads), password {DEMO_PASSWORD}"
        )
        native = NativePorts.for_stack(args.port_base)
        print(
            f"==> the platforms' webhooks: {native.public_base_url}/v1/channels/(meta/webhook|zalo/webhook|twilio/sms|twilio/voice|stringee/events);"
            f" mail relayed to smtp://127.0.0.1:{native.smtp}; replies go out through a local relay and platform stand-ins"
        )
        print(
            f"==> sending ~{args.rate:g} customer messages/s to support.inbound.v1 (Ctrl-C stops)"
        )
        asyncio.run(main_async(args, stack))
    finally:
        print("==> stopping services")
        if prometheus is not None:
            prometheus.stop()
        stack.stop()
        print("==> stopped")


if __name__ == "__main__":
    main()
