"""The policies and calendars in force: seeded from the shipped (or the operator's) YAML,
parsed, cross-checked, replaced atomically."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from s8_shared.business_time.calendar import BusinessCalendar, CalendarsDocument, parse_calendars
from s8_shared.data_files import DataFileError, load_model
from s8_sla_monitor.adapters.config_store import ConfigStore
from s8_sla_monitor.domain.policies import PolicySet


def read_seed(policies_path: Path, calendars_path: Path) -> tuple[PolicySet, CalendarsDocument]:
    """Both YAML files, validated and checked together: every policy's calendar must exist
    (DataFileError, naming the file, otherwise)."""
    calendars = load_model(calendars_path, CalendarsDocument, empty={})
    policies = load_model(policies_path, PolicySet)
    try:
        policies.check_calendars(calendars.calendars_by_id)
    except ValueError as exc:
        raise DataFileError(f"{policies_path}: {exc}") from None
    return policies, calendars


def parse(policies_raw: Any, calendars_raw: Any) -> tuple[PolicySet, dict[str, BusinessCalendar]]:
    """Both stored documents, checked together: every policy's calendar must exist."""
    calendars = parse_calendars(calendars_raw)
    policies = PolicySet.model_validate(policies_raw)
    policies.check_calendars(calendars)
    return policies, calendars


class SlaConfig:
    def __init__(
        self, store: ConfigStore, seed_policies: PolicySet, seed_calendars: CalendarsDocument
    ) -> None:
        self.store = store
        # Stored as the operator wrote them (unset fields stay out), as the API shows them.
        self.seed_policies = seed_policies.model_dump(mode="json", exclude_unset=True)
        self.seed_calendars = seed_calendars.model_dump(mode="json", exclude_unset=True)
        self.policies = seed_policies
        self.calendars = seed_calendars.calendars_by_id

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
