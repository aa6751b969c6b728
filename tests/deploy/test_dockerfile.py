"""The Dockerfile's invariants, checked by parsing it (no container engine needed).

What a build would only reveal in production: a root user, an unpinned base, dependencies
resolved afresh instead of from uv.lock, a service without a target, a port or user the Helm
chart does not expect.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SERVICE_DIRS = sorted(p.parent.name for p in (REPO / "services").glob("*/pyproject.toml"))


@dataclass
class Stage:
    name: str
    base: str  # image reference or the name of an earlier stage
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [args for op, args in self.instructions if op == instruction]


@dataclass
class Dockerfile:
    args: dict[str, str]  # ARGs declared before the first FROM, with their defaults
    stages: dict[str, Stage]

    def chain(self, target: str) -> list[Stage]:
        """The stage and its ancestors, base first."""
        stages = [self.stages[target]]
        while stages[0].base in self.stages:
            stages.insert(0, self.stages[stages[0].base])
        return stages

    def effective(self, target: str, instruction: str) -> list[str]:
        return [args for stage in self.chain(target) for args in stage.all(instruction)]

    def root_image(self, target: str) -> str:
        return self.chain(target)[0].base


@cache
def dockerfile() -> Dockerfile:
    text = (REPO / "Dockerfile").read_text()
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "a continuation line ends the file"

    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in logical:
        op, _, rest = line.partition(" ")
        op, rest = op.upper(), rest.strip()
        if op == "FROM":
            match = re.fullmatch(r"(?:--\S+\s+)*(\S+)\s+AS\s+(\S+)", rest, re.IGNORECASE)
            assert match, f"every stage is named: {line}"
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], match.group(1))
            current = Stage(match.group(2), image)
            stages[current.name] = current
        elif current is None:
            assert op == "ARG", f"only ARG may precede the first FROM: {line}"
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            current.instructions.append((op, rest))
    return Dockerfile(args, stages)


def module_of(service: str) -> str:
    return "s8_" + service.replace("-", "_")


def test_a_target_per_service_running_its_module() -> None:
    df = dockerfile()
    assert len(SERVICE_DIRS) == 7
    for service in SERVICE_DIRS:
        assert service in df.stages, f"no `--target {service}`"
        (cmd,) = df.effective(service, "CMD")[-1:]
        assert cmd == f'["python", "-m", "{module_of(service)}"]'
        assert importlib.util.find_spec(module_of(service)) is not None


def test_the_base_is_a_slim_python_3_11_pinned_to_a_patch_release() -> None:
    df = dockerfile()
    for target in df.stages:
        image = df.root_image(target)
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", image), (
            f"{target} starts from {image!r}"
        )


def test_dependencies_come_from_uv_lock_with_the_makefiles_uv() -> None:
    df = dockerfile()
    makefile_uv = re.search(r"^UV_VERSION\s*:=\s*(\S+)", (REPO / "Makefile").read_text(), re.M)
    assert makefile_uv
    builder_args = [
        a for s in df.stages.values() for a in s.all("ARG") if a.startswith("UV_VERSION")
    ]
    assert builder_args == [f"UV_VERSION={makefile_uv.group(1)}"]
    packages = {
        d: tomllib.loads((REPO / "services" / d / "pyproject.toml").read_text())["project"]["name"]
        for d in SERVICE_DIRS
    }
    for service in SERVICE_DIRS:
        copies = df.effective(service, "COPY")
        sources = [c for c in copies if "--from=" in c]
        assert sources, f"{service} copies its virtualenv from a build stage"
        build_stage = re.search(r"--from=(\S+)", sources[-1])
        assert build_stage
        assert "uv.lock" in " ".join(df.effective(build_stage.group(1), "COPY"))
        syncs = [r for r in df.effective(build_stage.group(1), "RUN") if "uv sync" in r]
        assert len(syncs) == 1, f"{service}: one `uv sync` builds its environment"
        flags = syncs[0].split("uv sync", 1)[1].split()
        assert {"--frozen", "--no-dev"} <= set(flags)
        assert flags[flags.index("--package") + 1] == packages[service]
        # The runtime image gets the environment only: no sources, no uv.
        assert all("--from=" in c for c in copies if c in df.stages[service].all("COPY"))


def test_runs_as_a_numeric_non_root_user_without_healthcheck_or_bytecode_writes() -> None:
    df = dockerfile()
    for service in SERVICE_DIRS:
        users = df.effective(service, "USER")
        assert users, f"{service} runs as root"
        uid, _, gid = users[-1].partition(":")
        assert uid.isdigit(), users[-1]
        assert int(uid) > 0, users[-1]
        assert not gid or (gid.isdigit() and int(gid) > 0)
        assert not df.effective(service, "HEALTHCHECK")  # Kubernetes probes do it
        env = " ".join(df.effective(service, "ENV"))
        assert "PYTHONDONTWRITEBYTECODE=1" in env  # the root filesystem is read-only
        assert "TMPDIR=/tmp" in env
        assert "HOME=/tmp" in env


def test_image_user_and_port_match_the_helm_chart() -> None:
    df = dockerfile()
    values = yaml.safe_load((REPO / "deploy/k8s/s8/values.yaml").read_text())
    for service in SERVICE_DIRS:
        uid = int(df.effective(service, "USER")[-1].partition(":")[0])
        assert uid == values["podSecurityContext"]["runAsUser"]
        env = " ".join(df.effective(service, "ENV"))
        assert f"S8_HTTP_PORT={values['http']['port']}" in env
        assert df.effective(service, "EXPOSE")[-1] == str(values["http"]["port"])


def test_dockerignore_lets_only_the_workspace_sources_in() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"  # an allow-list: local venvs, jars, .git and secrets stay out
    allowed = {p.removeprefix("!") for p in patterns if p.startswith("!")}
    assert {"uv.lock", "pyproject.toml"} <= allowed
    assert not {
        p
        for p in allowed
        if p.startswith((".venv", ".local", ".git", "tests", "testing", "deploy"))
    }


def lock_closure(lock: dict[str, Any], root: str) -> set[str]:
    """The packages `uv sync --no-dev --package <root>` installs from uv.lock: the root and its
    runtime dependencies, transitively (extras included, to err on the side of more)."""
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        entry = packages[name]
        deps = list(entry.get("dependencies", []))
        for extra in entry.get("optional-dependencies", {}).values():
            deps.extend(extra)
        todo.extend(d["name"] for d in deps)
    return seen


def test_images_never_install_the_development_only_test_support() -> None:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    testing = tomllib.loads((REPO / "testing/pyproject.toml").read_text())["project"]["name"]
    assert testing == "s8-testing"
    # Test support is reached only through the root's dev group, which `--no-dev` leaves out.
    assert testing in root["dependency-groups"]["dev"]
    assert testing not in root["project"]["dependencies"]
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    assert testing in {p["name"] for p in lock["package"]}
    service_packages = [
        tomllib.loads((REPO / "services" / d / "pyproject.toml").read_text())["project"]["name"]
        for d in SERVICE_DIRS
    ]
    for package in service_packages:
        closure = lock_closure(lock, package)
        assert "s8-shared" in closure
        assert testing not in closure, f"{package} depends on {testing} in uv.lock"
    # Every build installs exactly one service, without any dependency group.
    df = dockerfile()
    syncs = [r for s in df.stages.values() for r in s.all("RUN") if "uv sync" in r]
    assert len(syncs) == len(SERVICE_DIRS)
    for sync in syncs:
        flags = sync.split("uv sync", 1)[1].split()
        assert "--no-dev" in flags
        assert flags[flags.index("--package") + 1] in service_packages
        widening = {
            "--all-packages",
            "--dev",
            "--only-dev",
            "--group",
            "--all-groups",
            "--all-extras",
        }
        assert not widening & set(flags), sync
    # Its sources are not even in the build: no COPY names them (and .dockerignore keeps them out).
    context_copies = [c for s in df.stages.values() for c in s.all("COPY") if "--from=" not in c]
    assert context_copies
    assert not [c for c in context_copies if "testing" in c]
