"""SLA policies: which targets a ticket gets, chosen by the first policy that matches.

Declared order is the priority order (most specific first); the last policy must match
every ticket so that every ticket has exactly one policy. The policy set is a model: the
service's edge loads the YAML (`s8_sla_monitor.config.read_seed`); this module reads no file.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from s8_shared.contracts import Channel, CustomerTier, Priority, SlaTarget, TicketSnapshot
from s8_shared.contracts.common import TicketStatus

# Solved and closed stop clocks; they can never merely pause one.
_UNPAUSABLE = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")  # typos in YAML must fail


class TargetSpec(_Model):
    seconds: int = Field(gt=0, description="Promise in business seconds of `calendar`.")
    calendar: str
    warn_at: float = Field(default=0.8, gt=0.0, le=1.0, description="Fraction of the target.")
    pause_on: list[TicketStatus] = Field(default_factory=list)

    @field_validator("pause_on")
    @classmethod
    def _pausable(cls, value: list[TicketStatus]) -> list[TicketStatus]:
        bad = [s.value for s in value if s in _UNPAUSABLE]
        if bad:
            raise ValueError(f"{bad} stop clocks, they cannot be pause_on statuses")
        return value


class PolicyMatch(_Model):
    """Each given list must contain the ticket's value; None (omitted) matches anything."""

    priorities: list[Priority] | None = Field(default=None, min_length=1)
    channels: list[Channel] | None = Field(default=None, min_length=1)
    customer_tiers: list[CustomerTier] | None = Field(default=None, min_length=1)
    categories: list[str] | None = Field(default=None, min_length=1)
    teams: list[str] | None = Field(default=None, min_length=1)
    callback: bool | None = Field(
        default=None, description="Only callback requests (true) or only other tickets (false)."
    )

    @property
    def is_catch_all(self) -> bool:
        return all(getattr(self, name) is None for name in type(self).model_fields)

    def matches(self, snapshot: TicketSnapshot) -> bool:
        checks: list[tuple[Iterable[object] | None, object]] = [
            (self.priorities, snapshot.priority),
            (self.channels, snapshot.channel),
            (self.customer_tiers, snapshot.customer_tier),
            (self.categories, snapshot.category),
            (self.teams, snapshot.team),
        ]
        if self.callback is not None and snapshot.callback_requested != self.callback:
            return False
        return all(allowed is None or value in allowed for allowed, value in checks)


class SlaPolicy(_Model):
    policy_id: str = Field(min_length=1)
    description: str = ""
    match: PolicyMatch = Field(default_factory=PolicyMatch)
    targets: dict[SlaTarget, TargetSpec]


class PolicySet(_Model):
    version: int = 1
    policies: list[SlaPolicy] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> PolicySet:
        ids = [p.policy_id for p in self.policies]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate policy ids: {dupes}")
        if not self.policies[-1].match.is_catch_all:
            raise ValueError("the last policy must match every ticket (no `match` criteria)")
        return self

    def get(self, policy_id: str) -> SlaPolicy | None:
        return next((p for p in self.policies if p.policy_id == policy_id), None)

    def calendar_ids(self) -> set[str]:
        return {spec.calendar for p in self.policies for spec in p.targets.values()}

    def check_calendars(self, known: Iterable[str]) -> None:
        """Raise when a target refers to a calendar that does not exist."""
        missing = self.calendar_ids() - set(known)
        if missing:
            raise ValueError(f"policies refer to unknown calendars: {sorted(missing)}")


def match_policy(policies: PolicySet, snapshot: TicketSnapshot) -> SlaPolicy:
    """The first policy, in declared order, whose criteria all hold for the ticket."""
    for policy in policies.policies:
        if policy.match.matches(snapshot):
            return policy
    raise AssertionError("unreachable: the last policy is a catch-all")
