"""E-mail out through the SMTP relay (aiosmtplib): STARTTLS and login when configured,
implicit TLS on port 465. A 4xx answer, a timeout or a dropped connection is transient; a
5xx answer (an unknown mailbox, a refused sender, bad credentials) is permanent."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import datetime

import aiosmtplib

from s8_channels.domain.delivery import (
    Delivery,
    DeliveryError,
    PermanentError,
    SentReceipt,
    TransientError,
)
from s8_channels.domain.delivery_routing import looks_like_email
from s8_channels.domain.outbound_mail import build_mail
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts import utcnow

IMPLICIT_TLS_PORT = 465  # SMTPS: TLS from the first byte, no STARTTLS


class SmtpSender:
    def __init__(
        self,
        settings: ChannelsSettings,
        *,
        tls_context: ssl.SSLContext | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        """`tls_context`: whom to trust for the relay's certificate (default: the system's)."""
        self.settings = settings
        self.tls_context = tls_context
        self.now = now

    async def send(self, delivery: Delivery) -> SentReceipt:
        s = self.settings
        request = delivery.request
        if not s.smtp_relay_host:
            raise PermanentError("no SMTP relay configured (S8_SMTP_RELAY_HOST)")
        if not looks_like_email(request.to):
            raise PermanentError(f"not an e-mail address: {request.to!r}")
        mail = build_mail(
            request, mail_from=s.mail_from, from_name=s.mail_from_name, now=self.now()
        )
        implicit_tls = s.smtp_relay_port == IMPLICIT_TLS_PORT
        username: str | None = None
        password: str | None = None
        if s.smtp_relay_username is not None and s.smtp_relay_password is not None:
            username, password = s.smtp_relay_username, s.smtp_relay_password.get_secret_value()
        try:
            await aiosmtplib.send(
                mail,
                hostname=s.smtp_relay_host,
                port=s.smtp_relay_port,
                username=username,
                password=password,
                use_tls=implicit_tls,
                # True: STARTTLS or fail (never log in or send in clear when TLS was asked).
                start_tls=False if implicit_tls else s.smtp_relay_starttls,
                tls_context=self.tls_context,
                timeout=s.delivery_timeout_seconds,
            )
        except aiosmtplib.SMTPException as exc:
            raise smtp_error(exc) from exc
        except OSError as exc:  # refused connection, unreachable host, TLS failure
            raise TransientError(f"SMTP relay unreachable: {exc}") from exc
        return SentReceipt(str(mail["Message-ID"]))


def smtp_error(exc: aiosmtplib.SMTPException) -> DeliveryError:
    """Transient or permanent, by the relay's reply code (RFC 5321: 4xx try again, 5xx not)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        if codes and all(500 <= c < 600 for c in codes):
            return PermanentError(f"recipient refused: {detail}")
        return TransientError(f"recipient deferred: {detail}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"SMTP {exc.code} {exc.message}"
        if 500 <= exc.code < 600:
            return PermanentError(text)
        return TransientError(text)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):  # e.g. STARTTLS asked, not offered
        return PermanentError(f"SMTP relay cannot: {exc}")
    return TransientError(f"SMTP: {type(exc).__name__}: {exc}")
