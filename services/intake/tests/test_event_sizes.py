"""Every event intake produces from the largest message the contracts accept stays far below
the producer's 1 MiB limit: text and transcripts are cut (and the cut recorded), transcript
line ids are short."""

from typing import Any

import pytest

from s8_intake.domain.html_text import html_to_text
from s8_intake.domain.normalize import normalize
from s8_intake.domain.ticket import CustomerView, add_customer_message, open_ticket
from s8_shared.contracts.inbound import (
    MAX_HTML_CHARS,
    MAX_TEXT_CHARS,
    MAX_TRANSCRIPT_CHARS,
    parse_inbound,
)
from s8_testing.builders import T0
from s8_testing.intake_builders import NEUTRAL, make_classification

LIMIT = 1_048_576
MARGIN = 0.6  # of the producer's limit: room for the envelope, trace headers and growth
WORST = "\x01"  # the character whose JSON is longest (\u0001: six bytes for one character)
LONG_ID = "m" * 998


def worst(n: int) -> str:
    return WORST * (n - 1) + "x"  # not all blank: nothing is stripped away


def attachments() -> list[dict[str, Any]]:
    return [{"filename": worst(512), "content_type": worst(512)} for _ in range(100)]


def transcript() -> list[dict[str, Any]]:
    return [{"author": "bot", "text": worst(MAX_TEXT_CHARS)} for _ in range(500)]


WORST_MESSAGES: dict[str, dict[str, Any]] = {
    "email": {
        "channel": "email",
        "channel_message_id": LONG_ID,
        "from": {"address": "lan@example.vn", "name": worst(200)},
        "subject": worst(998),
        "text": worst(MAX_TEXT_CHARS),
        "references": [worst(998)] * 10,
        "attachments": attachments(),
    },
    "live_chat": {
        "channel": "live_chat",
        "channel_message_id": LONG_ID,
        "session_id": worst(512),
        "visitor_id": worst(512),
        "text": worst(MAX_TEXT_CHARS),
        "transcript": transcript(),
    },
    "chatbot": {
        "channel": "chatbot",
        "channel_message_id": LONG_ID,
        "bot_conversation_id": worst(512),
        "visitor_id": worst(512),
        "text": worst(MAX_TEXT_CHARS),
        "transcript": transcript(),
        "handoff_requested": True,
        "handoff_reason": worst(500),
    },
    "phone": {
        "channel": "phone",
        "channel_message_id": LONG_ID,
        "caller_number": "0912345678",
        "voicemail_transcript": worst(MAX_TEXT_CHARS),
    },
    "web_form": {
        "channel": "web_form",
        "channel_message_id": LONG_ID,
        "email": "lan@example.vn",
        "subject": worst(998),
        "text": worst(MAX_TEXT_CHARS),
    },
}


@pytest.mark.parametrize("channel", sorted(WORST_MESSAGES))
def test_the_largest_accepted_message_makes_events_well_below_the_producer_limit(
    channel: str,
) -> None:
    msg = normalize(parse_inbound(WORST_MESSAGES[channel]))
    opened = open_ticket("T-0123456789abcdef", CustomerView("C-1"), msg, make_classification(), NEUTRAL, T0)  # fmt: skip
    joined = add_customer_message(opened.state, msg, make_classification(), NEUTRAL, T0)
    for event in (*opened.events, *joined.events):
        assert len(event.to_bytes()) < LIMIT * MARGIN, (event.type, len(event.to_bytes()))


def test_a_long_transcript_keeps_its_latest_lines_with_short_ids_and_says_how_many_it_left_out() -> None:  # fmt: skip
    lines = [{"author": "customer", "text": f"dòng {n} " + "x" * 990} for n in range(120)]
    message = {**WORST_MESSAGES["chatbot"], "transcript": lines}
    msg = normalize(parse_inbound(message))
    created = open_ticket("T-0123456789abcdef", CustomerView("C-1"), msg, make_classification(), NEUTRAL, T0)  # fmt: skip
    payload = created.events[0].payload
    kept = payload.transcript
    assert sum(len(line.text) for line in kept) <= MAX_TRANSCRIPT_CHARS
    assert payload.transcript_omitted == 120 - len(kept) > 0
    assert kept[-1].text.startswith("dòng 119 ")  # the latest line is kept
    assert kept[0].text.startswith(f"dòng {payload.transcript_omitted} ")
    assert kept[0].message_id == f"T-0123456789abcdef#t{payload.transcript_omitted}"
    assert all(len(line.message_id) < 32 for line in kept)


def test_a_short_transcript_is_carried_whole() -> None:
    lines = [{"author": "bot", "text": "Xin chào"}, {"author": "customer", "text": "Đơn A1 đâu?"}]
    msg = normalize(parse_inbound({**WORST_MESSAGES["chatbot"], "transcript": lines}))
    created = open_ticket("T-0123456789abcdef", CustomerView("C-1"), msg, make_classification(), NEUTRAL, T0)  # fmt: skip
    payload = created.events[0].payload
    assert [line.text for line in payload.transcript] == ["Xin chào", "Đơn A1 đâu?"]
    assert payload.transcript_omitted == 0


def test_an_html_email_longer_than_the_text_limit_is_cut_and_the_cut_recorded() -> None:
    paragraph = "<p>" + "Đơn hàng bị giao chậm. " * 40 + "</p>"
    html = (paragraph * (MAX_HTML_CHARS // len(paragraph)))[:MAX_HTML_CHARS]
    full = len(html_to_text(html))
    assert full > MAX_TEXT_CHARS
    message = {**WORST_MESSAGES["email"], "text": None, "html": html, "attachments": []}
    msg = normalize(parse_inbound(message))
    assert len(msg.text) == MAX_TEXT_CHARS
    created = open_ticket("T-0123456789abcdef", CustomerView("C-1"), msg, make_classification(), NEUTRAL, T0)  # fmt: skip
    first = created.events[0].payload.first_message
    assert first.text_cut_from == len(html)  # what the text was cut from: the HTML body
    assert first.text == msg.text


def test_a_text_within_the_limit_records_no_cut() -> None:
    msg = normalize(parse_inbound({**WORST_MESSAGES["web_form"], "text": "Không đăng nhập được"}))
    assert msg.text_cut_from is None
    assert msg.text == "Không đăng nhập được"
