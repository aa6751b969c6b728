"""`python -m s8_sla_monitor` (or `s8-sla-monitor`): run the sla-monitor service."""

from __future__ import annotations

from s8_shared.runtime import serve_service
from s8_sla_monitor.app import build
from s8_sla_monitor.settings import SlaMonitorSettings


def main() -> None:
    serve_service(SlaMonitorSettings, build)


if __name__ == "__main__":
    main()
