"""The e-mail built for an outbound request: headers, the ticket token, threading, loop
protection, the body. Pure (the SMTP round trip is in test_delivery_smtp)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from s8_channels.domain.outbound_mail import build_mail, message_id_for, msg_id, subject_for
from s8_shared.contracts import Channel, Language, OutboundMessagePayload

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
TICKET = "T-0123456789abcdef"


def make_request(**overrides: Any) -> OutboundMessagePayload:
    fields: dict[str, Any] = {
        "outbound_id": "0f3a9c2e7b1d4e8fa5c6d7e8f9a0b1c2",
        "ticket_id": TICKET,
        "customer_id": "C-1",
        "channel": Channel.EMAIL,
        "to": "lan@example.vn",
        "language": Language.VI,
        "kind": "reply",
        "subject": "Re: Đơn hàng chưa tới",
        "text": "Chào chị Lan,\nĐơn hàng sẽ tới vào thứ Hai.",
        "reply_to_message_id": "<CAF=abc@mail.example.vn>",
    }
    return OutboundMessagePayload(**{**fields, **overrides})


def build(**overrides: Any) -> EmailMessage:
    return build_mail(
        make_request(**overrides), mail_from="support@s8.example", from_name="Hỗ trợ s8", now=T0
    )


def reparsed(mail: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(mail.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_reply_carries_from_to_subject_token_message_id_and_threading_headers() -> None:
    mail = reparsed(build())
    assert mail["From"].addresses[0].display_name == "Hỗ trợ s8"
    assert mail["From"].addresses[0].addr_spec == "support@s8.example"
    assert mail["To"] == "lan@example.vn"
    assert mail["Subject"] == f"Re: Đơn hàng chưa tới [#{TICKET}]"
    assert mail["Message-ID"] == "<0f3a9c2e7b1d4e8fa5c6d7e8f9a0b1c2@s8.example>"
    assert mail["In-Reply-To"] == "<CAF=abc@mail.example.vn>"
    assert mail["References"] == "<CAF=abc@mail.example.vn>"
    assert mail["Date"] == "Mon, 04 Mar 2030 09:00:00 +0000"
    assert mail["Auto-Submitted"] is None  # an agent's reply may be answered


def test_the_body_is_plain_utf8_text_safe_for_any_relay() -> None:
    mail = build()
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail["Content-Transfer-Encoding"] == "quoted-printable"
    assert mail.as_bytes().isascii()
    assert reparsed(mail).get_content() == "Chào chị Lan,\nĐơn hàng sẽ tới vào thứ Hai.\n"


@pytest.mark.parametrize("kind", ["auto_reply_faq", "acknowledgement", "survey", "incident_status"])
def test_automatic_mail_is_marked_auto_generated_so_auto_responders_stay_quiet(kind: str) -> None:
    mail = build(kind=kind)
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"


def test_the_ticket_token_is_added_once_whatever_the_subject() -> None:
    assert subject_for(make_request(subject=None)) == f"Yêu cầu hỗ trợ của bạn [#{TICKET}]"
    en = make_request(subject="", language=Language.EN)
    assert subject_for(en) == f"Your support request [#{TICKET}]"
    kept = make_request(subject=f"[#{TICKET.upper()}] Re: hello")
    assert subject_for(kept) == f"[#{TICKET.upper()}] Re: hello"
    assert subject_for(make_request(ticket_id=None, subject="Hello")) == "Hello"


def test_a_subject_with_line_breaks_stays_one_header_line() -> None:
    mail = reparsed(build(subject="Hello\r\nBcc: victim@example.com"))
    assert mail["Subject"] == f"Hello Bcc: victim@example.com [#{TICKET}]"
    assert mail["Bcc"] is None


def test_the_message_id_is_the_same_for_every_retry_of_one_outbound_id() -> None:
    first = message_id_for("ob-1", "support@s8.example")
    assert first == message_id_for("ob-1", "Support <support@s8.example>") == "<ob-1@s8.example>"
    odd = message_id_for("a b<c>@d", "support@s8.example")
    assert odd == message_id_for("a b<c>@d", "support@s8.example")
    assert odd.startswith("<")
    assert " " not in odd
    assert odd.count("@") == 1


def test_a_reply_to_id_stored_without_brackets_is_threaded_with_them() -> None:
    assert msg_id("CAF=abc@mail.example.vn") == "<CAF=abc@mail.example.vn>"
    assert msg_id(" <x@y> ") == "<x@y>"
    assert msg_id("") is None
    assert msg_id(None) is None
    assert reparsed(build(reply_to_message_id="abc@y"))["In-Reply-To"] == "<abc@y>"


def test_without_a_message_to_answer_there_are_no_threading_headers() -> None:
    mail = build(reply_to_message_id=None)
    assert mail["In-Reply-To"] is None
    assert mail["References"] is None


def test_a_web_form_reply_does_not_thread_on_the_forms_submission_id() -> None:
    mail = build(channel=Channel.WEB_FORM, reply_to_message_id="form-submission-42")
    assert mail["In-Reply-To"] is None
    assert mail["References"] is None
    assert mail["Subject"].endswith(f"[#{TICKET}]")
