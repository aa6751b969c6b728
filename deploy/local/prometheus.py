"""A real Prometheus (Debian's package) scraping the local stack: `make run PROMETHEUS=1`.

Writes a config with one scrape job per service (job = the service's name, as in the Helm
chart's ServiceMonitors), loads the chart's alert rules, and runs `prometheus` with its
data under .local/prometheus/data-<port>/ (fresh each run). The e2e dashboard test runs it
through `stack.py --prometheus`.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy/k8s/s8/files/alerts.rules.yaml"
DATA = REPO / ".local" / "prometheus"
LOGS = REPO / ".local" / "logs"


def scrape_config(
    ports: dict[str, int],
    *,
    scrape_interval: str = "5s",
    namespace: str = "local",
    rules: Path = RULES,
) -> dict[str, Any]:
    """One job per service, named like the service (`s8-router`); every target gets a
    `namespace` label so the dashboards' namespace variable works as on Kubernetes."""
    return {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": f"s8-{name}",
                # the services' own `service` label wins, as with honorLabels on Kubernetes
                "honor_labels": True,
                "static_configs": [
                    {"targets": [f"127.0.0.1:{port}"], "labels": {"namespace": namespace}}
                ],
            }
            for name, port in ports.items()
        ],
    }


@dataclass
class LocalPrometheus:
    ports: dict[str, int]
    port: int = 9090
    scrape_interval: str = "5s"
    data_dir: Path | None = None
    binary: str = "prometheus"
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        exe = shutil.which(self.binary)
        if exe is None:
            raise SystemExit(
                "prometheus is not installed: `make prometheus-tool` installs Debian's package"
            )
        data = self.data_dir or DATA / f"data-{self.port}"
        # A fresh TSDB each run: series of an earlier run would fill rate windows and hide
        # a metric this run does not export.
        shutil.rmtree(data / "tsdb", ignore_errors=True)
        data.mkdir(parents=True, exist_ok=True)
        config = data / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(scrape_config(self.ports, scrape_interval=self.scrape_interval)),
            encoding="utf-8",
        )
        LOGS.mkdir(parents=True, exist_ok=True)
        log = (LOGS / "prometheus.log").open("ab")
        self.proc = subprocess.Popen(
            [
                exe,
                f"--config.file={config}",
                f"--storage.tsdb.path={data / 'tsdb'}",
                "--storage.tsdb.retention.time=2d",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(
                    f"prometheus exited with {self.proc.returncode}; see {LOGS / 'prometheus.log'}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"prometheus not ready after {timeout:.0f}s on {self.url}")

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query through the HTTP API; the result vector (or matrix)."""
        params = urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{params}", timeout=10) as resp:
            body = json.loads(resp.read())
        if body.get("status") != "success":
            raise ValueError(f"{expr}: {body}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
