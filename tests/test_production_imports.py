"""Production code never imports test support or test tools.

The service images install each service with `uv sync --no-dev --package <service>`: the
dev group (s8_testing, pytest, hypothesis, ...) is absent there, so such an import would pass
every test on a developer's machine and fail only when the container starts.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Top-level modules only the dev dependency group installs.
DEV_ONLY = frozenset(
    {
        "s8_testing",
        "pytest",
        "_pytest",
        "pytest_asyncio",
        "hypothesis",
        "schemathesis",
        "playwright",
        "testcontainers",
    }
)


def production_sources() -> list[Path]:
    roots = [REPO / "shared/src", *sorted((REPO / "services").glob("*/src"))]
    return sorted(path for root in roots for path in root.rglob("*.py"))


def imported_modules(source: str) -> set[str]:
    """Every absolute module an `import`, `from ... import` or `importlib.import_module("...")`
    names, wherever it stands (functions and `if TYPE_CHECKING:` blocks included)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            modules.add(node.args[0].value)
    return modules


def dev_only_imports(source: str) -> set[str]:
    return {m for m in imported_modules(source) if m.partition(".")[0] in DEV_ONLY}


def test_the_import_scan_finds_every_form_of_import() -> None:
    source = (
        "import os\n"
        "import pytest\n"
        "from s8_testing.builders import T0\n"
        "from . import sibling\n"
        "def later() -> None:\n"
        "    import hypothesis.strategies as st\n"
        "    importlib.import_module('s8_testing.harness')\n"
        "if TYPE_CHECKING:\n"
        "    from _pytest.fixtures import FixtureRequest\n"
    )
    assert dev_only_imports(source) == {
        "pytest",
        "s8_testing.builders",
        "hypothesis.strategies",
        "s8_testing.harness",
        "_pytest.fixtures",
    }
    assert dev_only_imports("import s8_testingish\nfrom pytestish import x\n") == set()


def test_no_production_module_imports_test_support_or_test_tools() -> None:
    sources = production_sources()
    # Every service's package and the shared library are scanned, not an empty list.
    scanned = {path.relative_to(REPO).parts[:2] for path in sources}
    assert ("shared", "src") in scanned
    assert {parts[1] for parts in scanned if parts[0] == "services"} == {
        p.parent.name for p in (REPO / "services").glob("*/pyproject.toml")
    }
    offenders = {
        str(path.relative_to(REPO)): sorted(found)
        for path in sources
        if (found := dev_only_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_test_support_lives_outside_the_production_packages() -> None:
    # (a checkout may keep the old directory's untracked __pycache__: only sources count)
    assert not list((REPO / "shared/src/s8_shared" / "testing").glob("*.py"))
    assert not list((REPO / "services").glob("*/src/*/testing*.py"))
    assert (REPO / "testing/src/s8_testing/harness.py").is_file()


def test_handlers_take_s8s_kafka_message_which_needs_no_worker_thread() -> None:
    # FastStream's `KafkaMessage` annotation injects through a worker thread per message
    # (s8_shared.kafka.message says why that matters in a storm of bad messages).
    offenders = [
        str(path.relative_to(REPO))
        for path in production_sources()
        if "faststream.kafka.annotations" in imported_modules(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
