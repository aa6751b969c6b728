"""Builders for intake's tests (kept in the package so every test layer shares them)."""

from __future__ import annotations

from typing import Any

from s8_intake.domain.model import Classification, NormalizedMessage
from s8_intake.domain.ticket import Change, CustomerView, open_ticket
from s8_shared.contracts import Channel, Identity, Language, Priority
from s8_shared.nlp.sentiment import Sentiment
from s8_testing.builders import T0


def make_message(**overrides: Any) -> NormalizedMessage:
    fields: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "dedup_key": "email:<m1@example.vn>",
        "text": "Tôi chưa nhận được hoàn tiền cho đơn #A1023.",
        "identities": (Identity(kind="email", value="lan.nguyen@example.vn"),),
        "sent_at": T0,
        "subject": "Hoàn tiền đơn #A1023",
        "reply_address": "lan.nguyen@example.vn",
        "public": True,
    }
    fields.update(overrides)
    return NormalizedMessage(**fields)


def make_classification(**overrides: Any) -> Classification:
    fields: dict[str, Any] = {
        "category": "billing",
        "required_skills": ("billing",),
        "priority": Priority.NORMAL,
        "language": Language.VI,
        "team": "billing",
        "explanations": {"category": "billing-refund"},
    }
    fields.update(overrides)
    return Classification(**fields)


NEUTRAL = Sentiment(score=0.0, negative=False)
ANGRY = Sentiment(score=-0.8, negative=True, matched=("lừa đảo",))


def make_new_ticket(**message_overrides: Any) -> Change:
    return open_ticket(
        "T-1",
        CustomerView("C-1"),
        make_message(**message_overrides),
        make_classification(),
        NEUTRAL,
        T0,
    )
