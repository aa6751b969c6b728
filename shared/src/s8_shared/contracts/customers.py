"""Customer attributes from CRM systems on `support.customers.v1` (or intake's API)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from s8_shared.contracts.common import Channel, CustomerTier, Language

IdentityKind = Literal["email", "phone", "facebook", "zalo", "instagram", "x", "chat_visitor"]


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320)


class ChannelFollow(BaseModel):
    """Whether the customer follows an account (a Zalo OA) on its platform, as of `at`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_:-]+$",
                         description="`<platform>:<account id>`, e.g. `zalo:4368496045530136`.")  # fmt: skip
    following: bool
    at: AwareDatetime = Field(description="When the platform saw it; an older state never wins.")


class CustomerProfileUpsert(BaseModel):
    """Attributes of the person behind these identities; unset fields are left as they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    upsert_id: str = Field(min_length=1, max_length=128, description="A repeat is applied once.")
    identities: list[Identity] = Field(min_length=1, max_length=20)
    name: str | None = Field(default=None, max_length=200)
    tier: CustomerTier | None = None
    language: Language | None = None
    region: str | None = Field(default=None, max_length=100)
    external_id: str | None = Field(default=None, max_length=128, description="The CRM's own id.")
    preferred_channel: Channel | None = Field(
        default=None, description="Where the customer wants to hear from us first."
    )
    products: list[str] | None = Field(
        default=None, max_length=100, description="Product or asset models the customer owns."
    )
    follow: ChannelFollow | None = Field(
        default=None, description="A follow or unfollow of an account, from its platform."
    )
