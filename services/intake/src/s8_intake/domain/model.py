"""Intake's domain vocabulary: what a channel message becomes after normalization, and
what classification decides. Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from s8_intake.domain.candidates import Candidate
from s8_shared.contracts import Channel, Identity, Language, Priority
from s8_shared.contracts.inbound import TranscriptLine


@dataclass(frozen=True)
class NormalizedMessage:
    """One customer message from any channel, in one shape.

    `identities` are normalized (emails lower-cased, phones in E.164, social ids prefixed
    by platform); `skip_reason` is set for messages that must not become tickets
    (auto-replies, bounces, mail loops).
    """

    channel: Channel
    dedup_key: str
    text: str
    identities: tuple[Identity, ...]
    sent_at: datetime | None = None
    display_name: str | None = None
    subject: str | None = None
    conversation_key: str | None = None
    thread_refs: tuple[str, ...] = ()
    ticket_token: str | None = None
    attachments: tuple[str, ...] = ()
    transcript: tuple[TranscriptLine, ...] = ()
    transcript_omitted: int = 0  # earlier lines left out to keep the events small
    text_cut_from: int | None = None  # the size of what the text was cut from
    public: bool = False
    handoff_requested: bool = False
    handoff_reason: str | None = None
    bot_confidence: float | None = None
    ivr_path: str | None = None
    customer_category: str | None = None
    region: str | None = None
    reply_address: str | None = None
    skip_reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Addresses the sender asserted (contact fields, Reply-To, the text): never claimed or
    # merged on their own (`domain.candidates`).
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class Classification:
    category: str | None
    required_skills: tuple[str, ...]
    priority: Priority
    language: Language
    team: str | None = None
    tier_required: str | None = None
    explanations: dict[str, str] = field(default_factory=dict)
    callback: bool = False  # a call to return: a missed or abandoned call


@dataclass(frozen=True)
class KbArticle:
    article_id: str
    language: Language
    title: str
    body: str
    keywords: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class KbMatch:
    article_id: str
    score: float  # 0..1
