"""Normalizing customer identities so one person matches across channels.

Emails are compared lower-cased, phones in E.164 (`+84903123456`), platform ids as given.
Pure functions, no I/O.
"""

from __future__ import annotations

import re

import phonenumbers

from s8_shared.contracts import Identity
from s8_shared.contracts.customers import IdentityKind

DEFAULT_REGION = "VN"
_MAX_IDENTITY_CHARS = 320  # Identity.value's limit
_NON_DIGITS = re.compile(r"\D+")


def normalize_email(addr: str) -> str:
    """`" Lan.Nguyen@Example.VN "` -> `"lan.nguyen@example.vn"`.

    The local part is lower-cased too: mail providers treat it case-insensitively in
    practice, and one customer writing with different casing must stay one customer.
    """
    return addr.strip().lower()


def normalize_phone(raw: str, default_region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164, or None if it is not a valid phone number.

    Numbers without a `+` are read as `default_region` numbers (`0903123456` and
    `84903123456` both become `+84903123456`); numbers with `+` keep their own country.
    """
    text = raw.strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_digits(raw: str) -> str:
    """The digits of a number we cannot validate, so it still identifies the caller."""
    digits = _NON_DIGITS.sub("", raw)
    return (digits or raw.strip() or "unknown")[:_MAX_IDENTITY_CHARS]


def is_vietnamese_number(e164: str) -> bool:
    return e164.startswith("+84")


def identity_for_email(addr: str | None) -> Identity | None:
    if addr is None:
        return None
    value = normalize_email(addr)
    if "@" not in value or len(value) > _MAX_IDENTITY_CHARS:
        return None
    return Identity(kind="email", value=value)


def identity_for_phone(raw: str | None, default_region: str = DEFAULT_REGION) -> Identity | None:
    """A phone identity in E.164, or None if `raw` is not a valid number."""
    if raw is None:
        return None
    e164 = normalize_phone(raw, default_region)
    return Identity(kind="phone", value=e164) if e164 else None


def identity_for_id(kind: IdentityKind, value: str | None) -> Identity | None:
    """A platform or chat-visitor id, kept as given apart from surrounding whitespace."""
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > _MAX_IDENTITY_CHARS:
        return None
    return Identity(kind=kind, value=text)


def normalize_identity(identity: Identity) -> Identity | None:
    """The same identity in normalized form, or None if it is not valid (e.g. a bad phone)."""
    if identity.kind == "email":
        return identity_for_email(identity.value)
    if identity.kind == "phone":
        return identity_for_phone(identity.value)
    return identity_for_id(identity.kind, identity.value)


def unique(identities: list[Identity | None]) -> tuple[Identity, ...]:
    """Drops the missing ones and repeats, keeping the order (the first is the author)."""
    return tuple(dict.fromkeys(i for i in identities if i is not None))
