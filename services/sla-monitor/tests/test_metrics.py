from __future__ import annotations

import time

from prometheus_client import CollectorRegistry

from s8_sla_monitor.metrics import SlaMetrics


def test_a_scheduler_pass_records_when_it_ran() -> None:
    registry = CollectorRegistry()
    metrics = SlaMetrics(registry)
    name = "s8_sla_scheduler_last_run_timestamp_seconds"
    assert registry.get_sample_value(name) == 0.0

    before = time.time()
    metrics.scheduler_ran()

    ran_at = registry.get_sample_value(name)
    assert ran_at is not None
    assert before <= ran_at <= time.time()
