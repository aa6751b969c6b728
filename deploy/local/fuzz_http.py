"""The HTTP fuzzer: schemathesis against every service's OpenAPI document, with valid
credentials, the seven services running as processes on the real broker and store; then every
write operation of every running service without a token and with a forged one (each must be 401).

Per service: schemathesis's examples, coverage and fuzzing phases (`--max-examples` per
operation), checking that no response is a 5xx; every exchange recorded as HAR under
.local/fuzz-http/. Prints per service: inputs (HTTP requests), 5xx answers, whether the process
crashed, and the operations that answered 5xx. Goal: 0 5xx, 0 crashes.

    make fuzz                                    # with the topic fuzzer: 10,000+ inputs in all
    python deploy/local/fuzz_http.py --max-examples 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from procs import HOST, MODULES, REPO, TOKENS, LocalInfra, Services, http_get

from s8_shared.kafka.provision import delete_namespace, provision_topics

LOCAL = REPO / ".local" / "fuzz-http"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
FUZZER = "s8-fuzzer"  # the test realm's client holding every role: every route's door opens


# The desk's live stream answers for as long as the client listens: its two inputs (the
# Last-Event-ID header, `after`) are checked by the desk's own tests instead.
ENDLESS = ("--exclude-path", "/v1/stream")


def schemathesis(port: int, har: Path, max_examples: int, seed: int) -> None:
    """One schemathesis run; its exit status only says whether it found failures."""
    command = [
        str(SCHEMATHESIS), "run", f"http://{HOST}:{port}/openapi.json", *ENDLESS,
        "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(max_examples), "--seed", str(seed), "--workers", "2",
        "--header", f"Authorization: Bearer {TOKENS.token_sync(FUZZER)}", "--request-timeout", "30",
        "--report", "har", "--report-har-path", str(har), "--no-color",
        "--continue-on-failure", "--suppress-health-check", "all", "--warnings", "off",
    ]  # fmt: skip
    with (har.with_suffix(".log")).open("wb") as log:
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False, timeout=3600)


PUBLIC_WRITES = {"/s/{token}"}  # the customer's survey page: its signed token is the credential
WRITES = ("post", "put", "patch", "delete")


def open_doors(port: int) -> list[str]:
    """Every write operation of the running service, called without a token and with a
    forged one: those that did not answer 401 (goal: none)."""
    spec = json.loads(http_get(port, "/openapi.json"))
    opened = []
    for path, operations in spec["paths"].items():
        for method in (m for m in operations if m in WRITES and path not in PUBLIC_WRITES):
            url = f"http://{HOST}:{port}" + path.replace("{channel}", "email").replace("{", "").replace("}", "")  # fmt: skip
            for headers in ({}, {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}):
                request = urllib.request.Request(url, data=b"{}", method=method.upper(), headers={"content-type": "application/json", **headers})  # fmt: skip
                try:
                    with urllib.request.urlopen(request, timeout=10) as reply:
                        status = reply.status
                except urllib.error.HTTPError as refused:
                    status = refused.code
                if status != 401:
                    opened.append(f"{method.upper()} {path} {'forged' if headers else 'anonymous'} -> {status}")  # fmt: skip
    return opened


def tally(har: Path) -> dict[str, Any]:
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    errors = Counter(_exchange(e) for e in entries if e["response"]["status"] >= 500)
    return {"inputs": len(entries), "5xx": sum(errors.values()), "failing": errors.most_common(8)}


def _exchange(entry: dict[str, Any]) -> str:
    request, status = entry["request"], entry["response"]["status"]
    return f"{request['method']} {urlparse(request['url']).path} -> {status}"


async def run(infra: LocalInfra, max_examples: int, seed: int, port_base: int) -> dict[str, Any]:
    ns = f"fuzzhttp{uuid.uuid4().hex[:8]}."
    await provision_topics(infra.bootstrap, namespace=ns)
    LOCAL.mkdir(parents=True, exist_ok=True)
    # The desk passes writes on to this run's intake and router (slots 1 and 2 of MODULES);
    # the channels' SMTP receiver is not this fuzzer's (off).
    owners = {
        "S8_INTAKE_URL": f"http://{HOST}:{port_base + 1}",
        "S8_ROUTER_URL": f"http://{HOST}:{port_base + 2}",
        "S8_SMTP_RECEIVER_PORT": "0",
    }
    services = Services(infra, "fuzz-http", ns, port_base, MODULES, env=owners)
    results: dict[str, Any] = {}
    try:
        await asyncio.to_thread(services.wait_ready, 300)
        for module in MODULES:
            har = LOCAL / f"{module}.har"
            har.unlink(missing_ok=True)
            await asyncio.to_thread(schemathesis, services.ports[module], har, max_examples, seed)
            row = tally(har)
            row["open_writes"] = await asyncio.to_thread(open_doors, services.ports[module])
            row["crashed"] = services.procs[module].poll() is not None
            try:
                row["healthz_after"] = json.loads(http_get(services.ports[module], "/healthz"))["status"]  # fmt: skip
            except OSError as exc:
                row["healthz_after"] = repr(exc)
            results[module] = row
    finally:
        services.stop()
        await delete_namespace(infra.bootstrap, ns)
    return results


def report(results: dict[str, Any]) -> None:
    print(f"\n{'service':<16}{'inputs':>8}{'5xx':>6}{'crashed':>9}{'open writes':>13}  healthz after")  # fmt: skip
    for module, row in results.items():
        print(f"{module:<16}{row['inputs']:>8}{row['5xx']:>6}{row['crashed']!s:>9}{len(row['open_writes']):>13}  {row['healthz_after']}")  # fmt: skip
    print(f"{'all':<16}{sum(r['inputs'] for r in results.values()):>8}{sum(r['5xx'] for r in results.values()):>6}")  # fmt: skip
    for module, row in results.items():
        for what, n in row["failing"]:
            print(f"  {module}: {what} (x{n})")
        for door in row["open_writes"]:
            print(f"  {module}: a write without a valid token was not refused: {door}")
    print(f"exchanges (HAR) and schemathesis's logs: {LOCAL}/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--max-examples", type=int, default=40, help="fuzzing examples per operation")  # fmt: skip
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--kafka-port", type=int, default=9092)
    parser.add_argument("--mongo-port", type=int, default=27017)
    parser.add_argument("--port-base", type=int, default=31200, help="services on base+1..base+5")  # fmt: skip
    args = parser.parse_args()
    infra = LocalInfra(REPO / ".local", args.kafka_port, args.mongo_port)
    results = asyncio.run(run(infra, args.max_examples, args.seed, args.port_base))
    report(results)
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    bad = any(r["5xx"] or r["crashed"] or r["open_writes"] for r in results.values())
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
