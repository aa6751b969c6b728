"""Problems (known issues affecting many customers) on `support.problems.v1`, keyed by
problem id, and the bodies of intake's `/v1/problems` API.

A support lead declares a problem with the segment it affects; intake tells affected
customers before they write in (`problem.customer_notified`, one per customer and problem
update), links their new tickets to it as incidents and, when it is resolved, tells every
linked customer and solves their incidents.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from s8_shared.contracts.common import Channel, CustomerTier, Language
from s8_shared.contracts.envelope import Contract, Event, EventFamily


class ProblemStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    RESOLVED = "resolved"


IncidentRouting = Literal["never", "vip", "always"]
NoticeKind = Literal["declared", "update", "resolved"]


class LocalizedText(BaseModel):
    """The same text in Vietnamese and English; customers get theirs (either if one is missing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vi: str | None = Field(default=None, min_length=1, max_length=5000)
    en: str | None = Field(default=None, min_length=1, max_length=5000)

    @model_validator(mode="after")
    def _one_language_at_least(self) -> LocalizedText:
        if self.vi is None and self.en is None:
            raise ValueError("give the text in `vi`, `en` or both")
        return self

    def for_language(self, language: Language) -> str:
        text = self.vi if language == Language.VI else self.en
        return text or self.vi or self.en or ""


class ProblemSegment(BaseModel):
    """Who is affected. A customer is affected when listed in `customer_ids`, or when every
    criterion given matches them (regions, product models, tiers); `all_customers` says so
    explicitly for an outage that hits everyone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: list[str] = Field(default_factory=list, max_length=100, examples=[["Hà Nội"]])
    products: list[str] = Field(
        default_factory=list, max_length=100, description="Product or asset models."
    )
    tiers: list[CustomerTier] = Field(default_factory=list)
    customer_ids: list[str] = Field(default_factory=list, max_length=10_000)
    all_customers: bool = False

    @model_validator(mode="after")
    def _not_empty(self) -> ProblemSegment:
        criteria = self.regions or self.products or self.tiers or self.customer_ids
        if not criteria and not self.all_customers:
            raise ValueError(
                "name the affected segment (regions, products, tiers or customer_ids) "
                "or set all_customers: true"
            )
        return self


class ProblemDeclaration(BaseModel):
    """`POST /v1/problems`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    problem_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Optional; a repeated declaration with the same id is applied once.",
    )
    title: LocalizedText
    description: LocalizedText
    segment: ProblemSegment
    keywords: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Words that tie a customer's message to this problem (accents optional).",
    )
    categories: list[str] = Field(
        default_factory=list, max_length=20, description="Ticket categories that match it."
    )
    status: ProblemStatus = ProblemStatus.INVESTIGATING
    started_at: AwareDatetime | None = None
    incident_routing: IncidentRouting = Field(
        default="vip",
        description="Which linked incidents still go to an agent: never, only VIP customers' "
        "(default) or always. A customer who writes again is always routed.",
    )
    notify: bool = Field(default=True, description="Send the proactive notice now.")
    declared_by: str = Field(
        default="",
        max_length=128,
        description="Left out, or the caller: s8 records who acts from the token.",
    )


class ProblemUpdate(BaseModel):
    """`PATCH /v1/problems/{id}`: unset fields stay as they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    update_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="A repeat is applied once."
    )
    status: ProblemStatus | None = None
    message: LocalizedText | None = Field(
        default=None, description="What customers are told with this update (or the resolution)."
    )
    segment: ProblemSegment | None = None
    keywords: list[str] | None = Field(default=None, max_length=50)
    categories: list[str] | None = Field(default=None, max_length=20)
    incident_routing: IncidentRouting | None = None
    notify: bool = True
    updated_by: str = Field(
        default="",
        max_length=128,
        description="Left out, or the caller: s8 records who acts from the token.",
    )


class ProblemSnapshot(Contract):
    problem_id: str
    title: LocalizedText
    description: LocalizedText
    segment: ProblemSegment
    keywords: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    status: ProblemStatus
    incident_routing: IncidentRouting = "vip"
    update_seq: int = Field(ge=1, description="Increases with every update of the problem.")
    last_message: LocalizedText | None = None
    started_at: datetime
    declared_at: datetime
    declared_by: str
    resolved_at: datetime | None = None
    updated_at: datetime


class ProblemChangedPayload(Contract):
    problem_id: str
    problem: ProblemSnapshot
    notify: bool = True
    actor_id: str | None = None


class _ProblemEvent(Event[ProblemChangedPayload]):
    partition_key_field: ClassVar[str] = "problem_id"


class ProblemDeclared(_ProblemEvent):
    type: Literal["problem.declared"] = "problem.declared"


class ProblemUpdated(_ProblemEvent):
    type: Literal["problem.updated"] = "problem.updated"


class ProblemResolved(_ProblemEvent):
    type: Literal["problem.resolved"] = "problem.resolved"


class CustomerNotifiedPayload(Contract):
    problem_id: str
    update_seq: int
    notice: NoticeKind
    customer_id: str
    outbound_id: str
    channel: Channel
    language: Language
    ticket_id: str | None = Field(default=None, description="The linked incident, if any.")
    proactive: bool = Field(
        description="True when the customer had not written in about this problem (a "
        "proactive contact); False for notices answering a linked incident."
    )


class CustomerNotified(Event[CustomerNotifiedPayload]):
    type: Literal["problem.customer_notified"] = "problem.customer_notified"
    partition_key_field: ClassVar[str] = "problem_id"


ProblemEvent = ProblemDeclared | ProblemUpdated | ProblemResolved | CustomerNotified
PROBLEM_EVENTS = EventFamily(
    "problem events", (ProblemDeclared, ProblemUpdated, ProblemResolved, CustomerNotified)
)
