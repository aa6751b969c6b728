"""Vocabulary shared by every contract: channels, priorities, statuses."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """The eight ways customers reach support (seed 001)."""

    EMAIL = "email"
    LIVE_CHAT = "live_chat"
    SOCIAL = "social"
    PHONE = "phone"
    SMS = "sms"
    WEB_FORM = "web_form"
    CHATBOT = "chatbot"
    ON_SITE = "on_site"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


class Language(StrEnum):
    VI = "vi"
    EN = "en"


class CustomerTier(StrEnum):
    VIP = "vip"
    STANDARD = "standard"
