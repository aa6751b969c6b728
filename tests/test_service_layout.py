"""Every service has the same small file set, and no production module grows past ~300
lines (split before: a module that size holds more than one concern)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVICES = sorted(p for p in (REPO / "services").glob("*/src/s8_*") if p.is_dir())
FILE_SET = ("__main__.py", "app.py", "settings.py", "api.py", "metrics.py", "ports.py")
PACKAGES = ("adapters", "domain")
MAX_LINES = 300


def test_every_service_is_found() -> None:
    assert {p.name for p in SERVICES} == {
        "s8_intake",
        "s8_router",
        "s8_sla_monitor",
        "s8_survey",
        "s8_analytics",
        "s8_desk",
        "s8_channels",
    }


@pytest.mark.parametrize("package", SERVICES, ids=lambda p: p.name)
def test_each_service_has_the_same_small_file_set(package: Path) -> None:
    missing = [name for name in FILE_SET if not (package / name).is_file()]
    missing += [name for name in PACKAGES if not (package / name / "__init__.py").is_file()]
    # The application services: one module, or a package of one module per concern.
    if not (package / "service.py").is_file() and not (package / "service").is_dir():
        missing.append("service.py or service/")
    assert missing == []


def test_no_production_module_is_over_300_lines() -> None:
    roots = [REPO / "shared/src", *(p.parent for p in SERVICES)]
    too_long = {
        str(path.relative_to(REPO)): lines
        for root in roots
        for path in root.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
