"""Agent actions on `support.actions.v1` (also `POST /v1/tickets/{id}/actions`), keyed by ticket id.

Agent desktops and other tools publish these; intake validates them against the ticket's
state machine and turns each accepted change into a `support.tickets.v1` event.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from s8_shared.contracts.common import Priority, TicketStatus


class ActionBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action_id: str = Field(
        min_length=1, max_length=128, description="Unique per action; a repeat is applied once."
    )
    ticket_id: str = Field(min_length=1, max_length=64)
    actor_id: str = Field(min_length=1, max_length=128, description="Agent or system id.")
    client_at: AwareDatetime | None = Field(
        default=None,
        validation_alias=AliasChoices("client_at", "at"),
        description="When the caller says it acted (`at` is accepted too). Kept only: an "
        "action takes effect when s8 receives it, so a backdated reply cannot meet an SLA.",
    )


class Reply(ActionBase):
    kind: Literal["reply"] = "reply"
    text: str = Field(min_length=1, max_length=20_000)


class Note(ActionBase):
    """An internal note: never shown to the customer."""

    kind: Literal["note"] = "note"
    text: str = Field(min_length=1, max_length=20_000)


class SetStatus(ActionBase):
    kind: Literal["set_status"] = "set_status"
    status: TicketStatus
    reason: str | None = Field(default=None, max_length=500)


class SetPriority(ActionBase):
    kind: Literal["set_priority"] = "set_priority"
    priority: Priority


class Transfer(ActionBase):
    kind: Literal["transfer"] = "transfer"
    to_team: str | None = Field(default=None, max_length=64)
    to_agent_id: str | None = Field(default=None, max_length=128)
    to_tier: Literal["L1", "L2", "L3", "field"] | None = None
    reason: str | None = Field(default=None, max_length=500)


class Merge(ActionBase):
    kind: Literal["merge"] = "merge"
    into_ticket_id: str = Field(min_length=1, max_length=64)


class CustomerFeedback(ActionBase):
    """The customer says an automatic answer did not help (chat button, email link)."""

    kind: Literal["not_helpful"] = "not_helpful"


class LinkProblem(ActionBase):
    """Make the ticket an incident of a known problem (solved when the problem is resolved)."""

    kind: Literal["link_problem"] = "link_problem"
    problem_id: str = Field(min_length=1, max_length=64)


class UnlinkProblem(ActionBase):
    kind: Literal["unlink_problem"] = "unlink_problem"


class OfferCompensation(ActionBase):
    """A refund or voucher for the customer: granted at once within the agent's limits,
    otherwise sent to a lead for approval."""

    kind: Literal["offer_compensation"] = "offer_compensation"
    compensation: Literal["refund", "voucher"]
    amount: int = Field(gt=0, le=10_000_000_000, description="In VND.")
    currency: Literal["VND"] = "VND"
    reason: str | None = Field(default=None, max_length=500)


TicketAction = Annotated[
    Reply
    | Note
    | SetStatus
    | SetPriority
    | Transfer
    | Merge
    | CustomerFeedback
    | LinkProblem
    | UnlinkProblem
    | OfferCompensation,
    Field(discriminator="kind"),
]
ACTION_ADAPTER: TypeAdapter[TicketAction] = TypeAdapter(TicketAction)
