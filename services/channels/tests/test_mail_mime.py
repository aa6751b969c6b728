"""Raw mail into the e-mail contract: the fixtures (real mail shapes) read as intake expects
them, every limit of the contract holds, and crafted mail is read in bounded time (random
and mutated mail: test_mail_fuzz.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from s8_channels.domain.mime import UnreadableMail, parse_mail
from s8_intake.domain.email_message import email_skip_reason, ticket_token
from s8_shared.contracts.inbound import MAX_HTML_CHARS, MAX_TEXT_CHARS, EmailMessage

MAIL = Path(__file__).parent / "fixtures" / "mail"
MAX = 10 * 1_048_576
NOW = datetime(2024, 6, 1, tzinfo=UTC)
OWN = frozenset({"support@support.example.com"})


def fixture(name: str) -> bytes:
    return (MAIL / f"{name}.eml").read_bytes()


def parse(raw: bytes, **kwargs: object) -> EmailMessage:
    return parse_mail(raw, max_bytes=MAX, now=NOW, **kwargs)  # type: ignore[arg-type]


def make_mail(*headers: str, body: str = "Hello", content_type: str = "text/plain") -> bytes:
    """A small mail; `headers` replace the defaults of the same name."""
    defaults = {
        "From": "Lan <lan@example.vn>",
        "To": "support@support.example.com",
        "Message-ID": "<m1@example.vn>",
        "Subject": "Hi",
        "Content-Type": f"{content_type}; charset=utf-8",
    }
    for header in headers:
        name, _, value = header.partition(":")
        defaults[name] = value.strip()
    head = "".join(f"{name}: {value}\r\n" for name, value in defaults.items() if value)
    return (head + "\r\n" + body).encode()


# --- the fixtures --------------------------------------------------------------------------


def test_a_plain_mail_gives_its_sender_recipients_subject_text_and_date() -> None:
    mail = parse(fixture("plain"))
    assert mail.channel_message_id == "<CAF3k9x2Yq7b@mail.example.vn>"
    assert (mail.from_.address, mail.from_.name) == ("lan.tran@example.vn", "Lan Tran")
    assert [(a.address, a.name) for a in mail.to] == [("support@support.example.com", "Support")]
    assert [(a.address, a.name) for a in mail.cc] == [("minh.le@example.vn", "Minh, Le")]
    assert mail.subject == "Order 10482 has not arrived"
    assert mail.text is not None
    assert mail.text.startswith("Hello,\n\nI ordered a rice cooker")
    assert "\r" not in mail.text
    assert mail.html is None
    assert mail.received_at == datetime(2024, 5, 14, 2, 12, 27, tzinfo=UTC)
    assert mail.headers == {"Return-Path": "<lan.tran@example.vn>"}
    assert email_skip_reason(mail, OWN) is None


def test_a_multipart_alternative_gives_both_bodies_and_the_reply_to() -> None:
    mail = parse(fixture("alternative"))
    assert mail.text is not None
    assert mail.text.startswith("Hi, please send the invoice")
    assert mail.html is not None
    assert mail.html.startswith('<div dir="ltr">Hi, please send the invoice for order <b>10511')
    assert mail.reply_to is not None
    assert (mail.reply_to.address, mail.reply_to.name) == (
        "hoa.pham+orders@example.net",
        "Hoa Pham (work)",
    )
    assert mail.attachments == []


def test_encoded_words_in_the_subject_and_names_are_decoded() -> None:
    mail = parse(fixture("vietnamese_subject"))
    assert mail.subject == "Đơn hàng bị giao nhầm màu"
    assert mail.from_.name == "Nguyễn Văn An"
    assert mail.to[0].name == "Hỗ trợ"
    assert mail.text == "Chào shop, tôi đặt áo màu xanh nhưng nhận được áo màu đỏ. Mã đơn 10533.\n"


def test_attachments_are_listed_with_name_type_and_decoded_size_only() -> None:
    mail = parse(fixture("attachment"))
    assert [(a.filename, a.content_type, a.size_bytes, a.url) for a in mail.attachments] == [
        ("receipt-10540.pdf", "application/pdf", 77, None),
        ("ảnh ấm đun.png", "image/png", 66, None),
    ]
    assert mail.text == "The kettle stopped heating after two weeks. Receipt and a photo attached."
    assert mail.html is not None
    assert mail.html.startswith("<p>The kettle")


def test_a_reply_keeps_its_threading_headers_and_ticket_token() -> None:
    mail = parse(fixture("reply"))
    assert mail.in_reply_to == "<s8.T-0123456789abcdef.2@support.example.com>"
    assert mail.references == [
        "<CAF3k9x2Yq7b@mail.example.vn>",
        "<s8.T-0123456789abcdef.1@support.example.com>",
        "<s8.T-0123456789abcdef.2@support.example.com>",
    ]
    assert ticket_token(mail.subject) == "T-0123456789abcdef"


def test_an_auto_reply_keeps_the_headers_intake_skips_it_by() -> None:
    mail = parse(fixture("auto_reply"))
    assert mail.headers["Auto-Submitted"] == "auto-replied"
    assert mail.headers["X-Autoreply"] == "yes"
    assert mail.headers["Precedence"] == "auto_reply"
    assert mail.headers["X-Auto-Response-Suppress"] == "All"
    assert email_skip_reason(mail, OWN) == "auto-reply: Auto-Submitted: auto-replied"


def test_a_delivery_status_bounce_is_recognisable_as_one() -> None:
    mail = parse(fixture("bounce"))
    assert mail.headers["Return-Path"] == "<>"
    assert mail.headers["Content-Type"].startswith("multipart/report; report-type=delivery-status")
    assert mail.from_.address == "MAILER-DAEMON@mx.support.example.com"
    assert mail.text is not None
    assert "could not\nbe delivered" in mail.text
    assert [a.content_type for a in mail.attachments] == [
        "message/delivery-status",
        "text/rfc822-headers",
    ]
    assert email_skip_reason(mail, OWN) == "bounce: empty Return-Path"


def test_the_envelope_sender_is_the_return_path_of_a_relayed_mail() -> None:
    raw = fixture("alternative").replace(b"Return-Path: <hoa.pham@example.net>\r\n", b"")
    assert "Return-Path" not in parse(raw).headers
    assert parse(raw, envelope_sender="bounces@example.net").headers["Return-Path"] == (
        "<bounces@example.net>"
    )
    bounce = parse(raw, envelope_sender="")  # MAIL FROM:<>
    assert bounce.headers["Return-Path"] == "<>"
    assert email_skip_reason(bounce, OWN) == "bounce: empty Return-Path"


def test_broken_charsets_and_bytes_are_read_with_replacement_characters() -> None:
    mail = parse(fixture("broken_charset"))
    assert mail.subject == "Máy giặt kêu to"  # raw UTF-8 in a header
    assert mail.text is not None
    assert mail.text.startswith("Máy giặt \ufffd")
    assert mail.html == "<p>giặt \ufffd</p>"
    mail.model_dump_json()  # nothing the JSON encoder refuses


# --- identities and threading --------------------------------------------------------------


def test_a_mail_without_message_id_gets_the_same_id_from_the_same_bytes() -> None:
    raw = make_mail("Message-ID:")
    first, again = parse(raw), parse(raw)
    assert first.channel_message_id == again.channel_message_id
    assert first.channel_message_id.endswith("@s8.invalid>")
    assert parse(make_mail("Message-ID:", body="Other")).channel_message_id != (
        first.channel_message_id
    )


def test_a_bare_message_id_is_put_in_angle_brackets() -> None:
    assert parse(make_mail("Message-ID: abc@example.vn")).channel_message_id == "<abc@example.vn>"


@pytest.mark.parametrize(
    "sender", ["", "From: not an address", "From: Lan <lan@>", "From: <@example.vn>"]
)
def test_a_mail_without_a_valid_from_is_unreadable(sender: str) -> None:
    with pytest.raises(UnreadableMail, match="no readable From address"):
        parse(make_mail(sender or "From:"))


def test_raw_utf8_headers_of_smtputf8_mail_are_read_as_utf8() -> None:
    mail = parse(make_mail("From: Nguyễn An <nguyễn.an@example.vn>", "Subject: Xin chào"))
    assert (mail.from_.address, mail.from_.name) == ("nguyễn.an@example.vn", "Nguyễn An")
    assert mail.subject == "Xin chào"


def test_invalid_recipients_are_dropped_and_the_valid_ones_kept() -> None:
    mail = parse(make_mail("To: a@example.vn, broken@@example.vn, , <>, b@example.vn"))
    assert [a.address for a in mail.to] == ["a@example.vn", "b@example.vn"]


def test_references_past_the_limit_keep_the_thread_root_and_the_latest() -> None:
    refs = " ".join(f"<r{i}@example.vn>" for i in range(300))
    mail = parse(make_mail(f"References: {refs}"))
    assert len(mail.references) == 200
    assert mail.references[0] == "<r0@example.vn>"
    assert mail.references[1] == "<r101@example.vn>"
    assert mail.references[-1] == "<r299@example.vn>"


@pytest.mark.parametrize(
    "date",
    [
        "Date: yesterday",
        "Date: Mon, 1 Jan 2024 10:00:00 -0000",  # -0000: the zone is unknown
        "Date: Mon, 1 Jan 2024 10:00:00",
        "Date: Mon, 1 Jan 2099 10:00:00 +0000",  # a wrong clock, far ahead of NOW
    ],
)
def test_an_unusable_date_leaves_the_receipt_time_to_intake(date: str) -> None:
    assert parse(make_mail(date)).received_at is None


def test_a_date_is_kept_in_utc() -> None:
    mail = parse(make_mail("Date: Mon, 1 Jan 2024 10:00:00 +0700"))
    assert mail.received_at == datetime(2024, 1, 1, 3, tzinfo=UTC)
    assert mail.received_at is not None
    assert mail.received_at.utcoffset() == timedelta(0)


# --- the contract's limits and the work's bounds -------------------------------------------


def test_a_mail_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    raw = make_mail(body="x" * 70_000)
    with pytest.raises(UnreadableMail, match="larger than 65536 bytes"):
        parse_mail(raw, max_bytes=65_536)


def test_subject_and_bodies_are_cut_to_the_contract_limits() -> None:
    long_subject = parse(make_mail("Subject: " + "s" * 3000))
    assert len(long_subject.subject) == 998
    assert len(parse(make_mail(body="t" * 50_000)).text or "") == MAX_TEXT_CHARS
    html = parse(make_mail(body="<p>" + "h" * 300_000, content_type="text/html"))
    assert html.text is None
    assert len(html.html or "") == MAX_HTML_CHARS


def test_at_most_100_attachments_are_kept() -> None:
    part = (
        "--b\r\nContent-Type: application/pdf\r\n"
        'Content-Disposition: attachment; filename="f.pdf"\r\n\r\n%PDF\r\n'
    )
    raw = make_mail('Content-Type: multipart/mixed; boundary="b"', body=part * 150 + "--b--\r\n")
    assert len(parse(raw).attachments) == 100


def test_an_attachment_without_a_name_gets_one_and_a_path_in_a_name_is_dropped() -> None:
    parts = (
        "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\nx\r\n"
        "--b\r\nContent-Type: image/png\r\n"
        'Content-Disposition: attachment; filename="../../etc/passwd"\r\n\r\nx\r\n--b--\r\n'
    )
    mail = parse(make_mail('Content-Type: multipart/mixed; boundary="b"', body=parts))
    assert [a.filename for a in mail.attachments] == ["attachment-1.pdf", "passwd"]
    assert mail.text == "see attached"


def test_too_many_mime_parts_are_refused_before_parsing() -> None:
    parts = "--b\r\n\r\nx\r\n" * 10_001
    with pytest.raises(UnreadableMail, match="too many MIME parts"):
        parse(make_mail('Content-Type: multipart/mixed; boundary="b"', body=parts))


def test_a_mime_tree_nested_too_deeply_is_unreadable() -> None:
    nested = "".join(
        f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(2000)
    )
    with pytest.raises(UnreadableMail, match="nested too deeply"):
        parse(make_mail("Content-Type: multipart/mixed; boundary=b0", body=nested))


@pytest.mark.parametrize(
    "header",
    [
        "To: " + '"' * 2_000_000,  # quadratic in the standard library's address parser
        "Subject: " + "=?utf-8?q?a?= " * 150_000,  # quadratic in its header decoder
        "Content-Type: multipart/mixed; boundary=b" + ";" * 2_000_000,
    ],
)
def test_crafted_headers_are_read_in_bounded_time(header: str) -> None:
    started = time.monotonic()
    parse(make_mail(header))
    assert time.monotonic() - started < 5  # in practice well under 0.5 s


def test_a_punycode_charset_is_not_decoded_with_punycode() -> None:
    started = time.monotonic()  # punycode decodes in quadratic time
    mail = parse(make_mail("Content-Type: text/plain; charset=punycode", body="a" * 1_000_000))
    assert mail.text == "a" * MAX_TEXT_CHARS
    assert time.monotonic() - started < 5
