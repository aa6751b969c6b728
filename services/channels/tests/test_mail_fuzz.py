"""Hostile bytes into the mail parser (hypothesis): random bytes, real mails mutated, and
arbitrary header values give `UnreadableMail` with a one-line ASCII reason, or a message that
survives the JSON trip to intake; never another exception, never a slow parse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from s8_channels.domain.mime import UnreadableMail, parse_mail
from s8_shared.contracts.inbound import EmailMessage

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "mail").glob("*.eml"))
NOW = datetime(2024, 6, 1, tzinfo=UTC)
_READABLE = settings(
    max_examples=400,
    deadline=timedelta(seconds=2),  # a parse of a few KB takes milliseconds
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_readable_or_refused(raw: bytes) -> None:
    """Either `UnreadableMail`, or a message that survives the JSON trip intake makes."""
    try:
        mail = parse_mail(raw, max_bytes=10 * 1_048_576, now=NOW)
    except UnreadableMail as unreadable:
        reason = unreadable.reason
    else:
        event("read")
        again = EmailMessage.model_validate_json(mail.model_dump_json(by_alias=True))
        assert again == mail
        return
    assert reason.isascii()  # it goes into an SMTP reply
    assert "\n" not in reason
    event(f"refused: {reason.split(' (')[0]}")


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> bytes:
    """A fixture with bytes replaced, inserted, deleted, or a slice repeated."""
    raw = bytearray(draw(st.sampled_from(FIXTURES)).read_bytes())
    for _ in range(draw(st.integers(1, 12))):
        at = draw(st.integers(0, len(raw)))
        kind = draw(st.sampled_from(["replace", "insert", "delete", "repeat"]))
        chunk = draw(
            st.one_of(
                st.binary(min_size=1, max_size=8),
                st.sampled_from(
                    [b"\r\n", b"\n\n", b"--", b'"', b";", b"(", b"<", b"=?", b"?=", b"\x00"]
                ),
                st.sampled_from(
                    [b"=?utf-8?b?", b"=?punycode?q?", b"charset=", b"boundary=", b"filename*0*="]
                ),
            )
        )
        if kind == "replace":
            raw[at : at + len(chunk)] = chunk
        elif kind == "insert":
            raw[at:at] = chunk
        elif kind == "delete":
            del raw[at : at + draw(st.integers(1, 64))]
        else:
            raw[at:at] = raw[at : at + draw(st.integers(1, 256))] * draw(st.integers(2, 40))
    return bytes(raw)


_HEADER_NAMES = [
    "From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References",
    "Date", "Content-Type", "Content-Disposition", "Content-Transfer-Encoding",
    "Auto-Submitted", "Return-Path", "MIME-Version",
]  # fmt: skip


@st.composite
def header_soups(draw: st.DrawFn) -> bytes:
    """Mail-shaped text: known headers with arbitrary values, then an arbitrary body."""
    names = st.sampled_from(_HEADER_NAMES)
    values = st.text(max_size=120) | st.sampled_from(
        ["multipart/mixed; boundary=b", "text/plain; charset=utf-16", "base64", "a@b.vn"]
    )
    heads = [("From", "a@example.vn"), *draw(st.lists(st.tuples(names, values), max_size=20))]
    body = draw(st.text(max_size=400) | st.just("--b\r\n\r\nx\r\n--b--\r\n"))
    text = "".join(f"{n}: {v}\r\n" for n, v in heads) + "\r\n" + body
    return text.encode("utf-8", "surrogatepass")


@_READABLE
@given(st.binary(max_size=4096), st.booleans())
def test_random_bytes_are_refused_or_read(raw: bytes, after_a_sender: bool) -> None:
    check_readable_or_refused(b"From: a@example.vn\r\n" + raw if after_a_sender else raw)


@_READABLE
@given(mutated_fixtures())
def test_mutated_real_mails_are_refused_or_read(raw: bytes) -> None:
    check_readable_or_refused(raw)


@_READABLE
@given(header_soups())
def test_arbitrary_header_values_are_refused_or_read(raw: bytes) -> None:
    check_readable_or_refused(raw)
