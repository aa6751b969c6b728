"""The benchmarks' and the chaos run's own stack: Kafka and the store from infra.sh on their
own ports and directory, and the five services as processes (which a fault can kill -9)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from roster import ROSTER
from traffic import MESSAGES

from s8_shared import topics
from s8_shared.contracts import AgentProfile, deterministic_id
from s8_testing.tokens import ProviderTokens

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SERVICES = ("s8_intake", "s8_router", "s8_sla_monitor", "s8_survey", "s8_analytics")
# Every module's port slot (base+1..base+7, as `make run`'s). The desk and the channels have a
# slot but are not in SERVICES: the pipeline benchmarks, chaos and the tests importing SERVICES
# keep starting (and counting on) the five; bench_desk.py and the fuzzers ask for them by name.
MODULES = (*SERVICES, "s8_desk", "s8_channels")
NAMES = ("Nguyễn Thị Mai", "Trần Quốc Bảo", "Lê Thu Trang", "Phạm Đức Long", "Vũ Ngọc Ánh")
# Vietnamese complaints that need a human (no FAQ question, no unaccented text): each gets a decision.
TEXTS = [m for m in MESSAGES["vi"] if m[0] not in ("Không đăng nhập được", "Hỏi về khuyến mãi", "Khan cap")]  # fmt: skip
Stats = dict[tuple[str, str], float]  # (service, Mongo command) -> seconds or count
# One Keycloak for every local stack (infra.sh's, default directory); these stacks' services
# accept the `s8-test` realm's tokens (deploy/local/keycloak/realms.py).
ISSUER = f"http://{HOST}:{os.environ.get('S8_KEYCLOAK_PORT', '18080')}/realms/s8-test"
TOKENS = ProviderTokens(ISSUER)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((HOST, port)) == 0


def http_get(port: int, path: str, as_: str | None = None) -> bytes:
    """GET, as `as_` (a person or client of the test realm) or without a token."""
    headers = TOKENS.headers_sync(as_) if as_ else {}
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as resp:
        return bytes(resp.read())


@dataclass(frozen=True)
class LocalInfra:
    """Kafka (controller on kafka_port + 1) and the store, under `local` (S8_LOCAL_DIR)."""

    local: Path
    kafka_port: int
    mongo_port: int

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def mongo_uri(self) -> str:
        return f"mongodb://{HOST}:{self.mongo_port}"

    def run(self, command: str) -> None:
        if not (self.local / "lib").exists():  # infra.sh looks for the jars under S8_LOCAL_DIR
            self.local.mkdir(parents=True, exist_ok=True)
            (self.local / "lib").symlink_to(REPO / ".local" / "lib")
        ports = {"KAFKA": self.kafka_port, "KAFKA_CONTROLLER": self.kafka_port + 1, "MONGO": self.mongo_port}  # fmt: skip
        env = {**os.environ, **{f"S8_{k}_PORT": str(v) for k, v in ports.items()}}
        env.update(S8_LOCAL_DIR=str(self.local), S8_PYTHON=sys.executable, S8_KEYCLOAK="0")
        subprocess.run(["bash", str(REPO / "deploy/local/infra.sh"), command], env=env, check=True, timeout=300)  # fmt: skip
        if command == "up":  # the shared Keycloak, in the default directory
            env = {k: v for k, v in os.environ.items() if k != "S8_LOCAL_DIR"}
            subprocess.run(["bash", str(REPO / "deploy/local/infra.sh"), "keycloak"], env={**env, "S8_PYTHON": sys.executable}, check=True, timeout=600)  # fmt: skip

    def running(self) -> bool:
        return port_open(self.kafka_port) and port_open(self.mongo_port)

    def kill(self, server: str) -> None:
        """kill -9 of `kafka` or `mongo` (the pid infra.sh recorded)."""
        pid = int((self.local / "run" / f"{server}.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        while Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text():  # fmt: skip
            time.sleep(0.1)


class Services:
    """The five services (or `modules`, the desk among them) as processes, on base+1..base+6
    by their slot in MODULES, with the namespace's databases.

    With `replicas` > 1 each module runs that many processes with the same settings (same
    database, same consumer groups) on ports base+10r+1..base+10r+6: the first keeps the
    module's name (`ports["s8_router"]`), the others are `s8_router#2`, ... (`instances`)."""

    def __init__(
        self,
        infra: LocalInfra,
        phase: str,
        ns: str,
        port_base: int,
        modules: tuple[str, ...] = SERVICES,
        *,
        replicas: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.infra, self.phase, self.ns, self.env = infra, phase, ns, env or {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}
        self.modules: dict[str, str] = {}  # instance -> module
        for r in range(replicas):
            for i, module in enumerate(MODULES):
                if module in modules:
                    name = module if r == 0 else f"{module}#{r + 1}"
                    self.ports[name], self.modules[name] = port_base + 10 * r + i + 1, module
        (infra.local / "logs").mkdir(parents=True, exist_ok=True)
        for name in self.ports:
            self.start(name)

    def instances(self, module: str) -> list[str]:
        """The module's replicas, by name."""
        return [name for name, m in self.modules.items() if m == module]

    def start(self, name: str) -> None:
        """Starts the instance `name` (a module, or a replica such as `s8_router#2`)."""
        module = self.modules[name]
        env = {**os.environ, "S8_KAFKA_BOOTSTRAP_SERVERS": self.infra.bootstrap, "S8_MONGO_URI": self.infra.mongo_uri}  # fmt: skip
        env.update(S8_MONGO_DATABASE=self.ns.replace(".", "_") + module, S8_TOPIC_NAMESPACE=self.ns)
        env.update(S8_CONSUMER_GROUP_PREFIX=f"{self.ns}s8-", S8_PROVISION_TOPICS="false")
        env.update(S8_HTTP_HOST=HOST, S8_HTTP_PORT=str(self.ports[name]), S8_OIDC_ISSUER=ISSUER)
        env.update(self.env)
        with (self.infra.local / "logs" / f"{self.phase}-{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", module], env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self, module: str) -> None:
        proc = self.procs[module]
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: only what we started
        proc.wait(timeout=10)

    def wait_ready(self, within: float, modules: tuple[str, ...] | None = None) -> None:
        deadline, pending = time.monotonic() + within, {m: self.ports[m] for m in modules or self.ports}  # fmt: skip
        while pending:
            for module, port in list(pending.items()):
                if self.procs[module].poll() is not None:
                    raise SystemExit(f"{module} exited; see {self.infra.local}/logs/")
                try:
                    if json.loads(http_get(port, "/readyz"))["ready"]:
                        del pending[module]
                except OSError:
                    pass  # not listening yet, or 503 (not ready)
            if pending and time.monotonic() > deadline:
                raise SystemExit(f"not ready after {within:.0f}s: {', '.join(pending)} (logs in {self.infra.local}/logs/)")  # fmt: skip
            time.sleep(0.5)

    def mongo(self) -> tuple[Stats, Stats]:
        """s8_mongo_command_duration_seconds (sum, count) per service and command."""
        seconds: Stats = {}
        count: Stats = {}
        for module, port in self.ports.items():
            for family in text_string_to_metric_families(http_get(port, "/metrics").decode()):
                for s in family.samples:
                    key = (module, s.labels.get("command", ""))
                    if s.name == "s8_mongo_command_duration_seconds_sum":
                        seconds[key] = seconds.get(key, 0.0) + s.value
                    elif s.name == "s8_mongo_command_duration_seconds_count":
                        count[key] = count.get(key, 0.0) + s.value
        return seconds, count

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def new_customer_message(run: str, i: int) -> tuple[str, bytes, bytes]:
    """(expected ticket id, key, value) of new customer i's first message: email or live chat."""
    subject, text = TEXTS[i % len(TEXTS)]
    msg: dict[str, Any] = {"text": text.format(order=f"B{10000 + i}"), "received_at": datetime.now(UTC).isoformat()}  # fmt: skip
    if i % 2 == 0:
        msg.update(channel="email", channel_message_id=f"<{run}.{i}@mail.example.vn>", subject=subject)  # fmt: skip
        msg.update({"from": {"address": f"khach.{run}.{i}@example.vn", "name": NAMES[i % 5]}, "to": [{"address": "support@s8.example.vn"}]})  # fmt: skip
    else:
        msg.update(channel="live_chat", channel_message_id=f"chat-{run}-{i}", session_id=f"S-{run}-{i}")  # fmt: skip
        msg.update(visitor_id=f"visitor-{run}-{i}", visitor_name=NAMES[i % 5], page_url="https://shop.example.vn/don-hang")  # fmt: skip
    dedup = f"{msg['channel']}:{msg['channel_message_id']}"
    ticket_id = "T-" + deterministic_id("ticket", dedup).hex[:16]  # intake's ticket_id_for
    return ticket_id, dedup.encode(), json.dumps(msg, ensure_ascii=False).encode()


async def register_agents(bootstrap: str, ns: str, router_port: int) -> None:
    """The demo roster online, on the agents topic as agent desktops publish it."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for member in ROSTER:
            profile = AgentProfile.model_validate({**member, "presence": "online"})
            await producer.send_and_wait(topics.AGENTS.name(ns), profile.model_dump_json().encode(), key=profile.agent_id.encode())  # fmt: skip
    finally:
        await producer.stop()
    deadline = time.monotonic() + 60
    while sum(a["presence"] == "online" for a in json.loads(http_get(router_port, "/v1/agents", "thao"))) < len(ROSTER):  # fmt: skip
        if time.monotonic() > deadline:
            raise SystemExit(f"the router did not see the {len(ROSTER)} agents online within 60s")
        await asyncio.sleep(0.3)
