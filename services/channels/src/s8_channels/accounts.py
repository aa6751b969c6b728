"""The platform accounts s8 is connected to, with their secrets (from settings, never from a
request). Each platform may have several accounts: several pages, OAs or numbers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

_ID = r"^[A-Za-z0-9_.:-]+$"


class MetaApp(BaseModel):
    """A Meta app: its secret signs every webhook; each page answers with its own token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app_secret: SecretStr = Field(description="App Dashboard → Settings → Basic → App secret.")
    verify_token: SecretStr = Field(
        description="Any string you choose; typed again as the webhook's Verify token."
    )
    page_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Page (or Instagram account) id → its page access token, for the Send API.",
    )


class ZaloAccount(BaseModel):
    """A Zalo Official Account and the Zalo app its webhook is set on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app_id: str = Field(min_length=1, max_length=64, pattern=_ID)
    oa_id: str = Field(min_length=1, max_length=64, pattern=_ID)
    secret_key: SecretStr = Field(description="The OA secret key that signs the webhook.")
    access_token: SecretStr | None = Field(
        default=None, description="The OA access token, for sending (OA message API)."
    )


class TwilioAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account_sid: str = Field(min_length=1, max_length=64, pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr = Field(description="Signs webhooks and authenticates the REST API.")
    numbers: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="The account's numbers (E.164); the first sends messages with no known line.",
    )


class StringeeAccount(BaseModel):
    """Stringee documents no webhook signature: its event URL carries a secret token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_sid: str = Field(min_length=1, max_length=64, pattern=_ID)
    url_token: SecretStr = Field(
        description="A long random string, put in the event URL as `?token=`; compared in "
        "constant time."
    )
