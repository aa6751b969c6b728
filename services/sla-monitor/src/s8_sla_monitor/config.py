"""The policies and calendars in force: parsed, cross-checked, replaced atomically."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from s8_shared.business_time.calendar import BusinessCalendar, parse_calendars
from s8_sla_monitor.adapters.config_store import ConfigStore
from s8_sla_monitor.domain.policies import PolicySet


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def parse(policies_raw: Any, calendars_raw: Any) -> tuple[PolicySet, dict[str, BusinessCalendar]]:
    """Both documents, checked together: every policy's calendar must exist."""
    calendars = parse_calendars(calendars_raw)
    policies = PolicySet.model_validate(policies_raw)
    policies.check_calendars(calendars)
    return policies, calendars


class SlaConfig:
    def __init__(self, store: ConfigStore, policies_path: Path, calendars_path: Path) -> None:
        self.store = store
        self.seed_policies = read_yaml(policies_path)
        self.seed_calendars = read_yaml(calendars_path)
        self.policies, self.calendars = parse(self.seed_policies, self.seed_calendars)

    async def load(self) -> None:
        await self.store.seed("policies", self.seed_policies)
        await self.store.seed("calendars", self.seed_calendars)
        await self.refresh()

    async def refresh(self) -> None:
        self.policies, self.calendars = parse(
            await self.store.get("policies"), await self.store.get("calendars")
        )

    async def put_policies(self, raw: Any) -> PolicySet:
        policies, _ = parse(raw, await self.store.get("calendars"))  # ValueError / ValidationError
        await self.store.put("policies", policies.model_dump(mode="json"))
        await self.refresh()
        return policies

    async def put_calendars(self, raw: Mapping[str, Any]) -> dict[str, BusinessCalendar]:
        _, calendars = parse(await self.store.get("policies"), raw)
        await self.store.put("calendars", raw)
        await self.refresh()
        return calendars

    async def raw(self, name: str) -> Any:
        return await self.store.get(name)
