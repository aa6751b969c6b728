"""Channels settings (env prefix `S8_`); the accounts' secrets are JSON values."""

from __future__ import annotations

from pydantic import Field, SecretStr

from s8_channels.accounts import MetaApp, StringeeAccount, TwilioAccount, ZaloAccount
from s8_shared.settings import ServiceSettings


class ChannelsSettings(ServiceSettings):
    service_name: str = "s8-channels"
    http_port: int = Field(default=8007, ge=1, le=65535)
    public_base_url: str = Field(
        default="http://127.0.0.1:8007",
        pattern=r"^https?://[^\s\"'<>?#]+$",
        description="This service's address as the platforms reach it (behind a proxy, the "
        "public one): Twilio signs the URL it called.",
    )
    # --- inbound platforms ---------------------------------------------------------------
    meta: MetaApp | None = Field(default=None, description="S8_META: JSON, see MetaApp.")
    zalo_accounts: list[ZaloAccount] = Field(default_factory=list, max_length=50)
    twilio_accounts: list[TwilioAccount] = Field(default_factory=list, max_length=50)
    stringee_accounts: list[StringeeAccount] = Field(default_factory=list, max_length=50)
    # --- e-mail in -----------------------------------------------------------------------
    smtp_receiver_port: int = Field(
        default=2525, ge=0, le=65535, description="SMTP port the mail relay delivers to; 0: off."
    )
    smtp_receiver_host: str = "127.0.0.1"
    smtp_receiver_domains: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Recipient domains accepted (RCPT TO); empty: any.",
    )
    max_mail_bytes: int = Field(
        default=10 * 1_048_576, ge=65_536, le=100 * 1_048_576,
        description="Largest mail accepted (SMTP SIZE); attachments are kept as metadata only.",
    )  # fmt: skip
    imap_host: str | None = Field(default=None, description="Poll this mailbox when set.")
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_poll_seconds: float = Field(default=60.0, gt=0, le=3600)
    # --- delivery out --------------------------------------------------------------------
    smtp_relay_host: str | None = Field(default=None, description="Send e-mail through it.")
    smtp_relay_port: int = Field(default=587, ge=1, le=65535)
    smtp_relay_username: str | None = None
    smtp_relay_password: SecretStr | None = None
    smtp_relay_starttls: bool = True
    mail_from: str = Field(default="support@example.com", max_length=320)
    mail_from_name: str = Field(default="Support", max_length=200)
    meta_graph_url: str = Field(default="https://graph.facebook.com/v21.0")
    zalo_api_url: str = Field(default="https://openapi.zalo.me")
    twilio_api_url: str = Field(default="https://api.twilio.com")
    delivery_attempts: int = Field(
        default=5, ge=1, le=20, description="Sends tried before a transient failure is final."
    )
    delivery_backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    delivery_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
