"""The published support policy as data: first-response promises per channel and
priority, which channels get an acknowledgement, and its wording in each language."""

from __future__ import annotations

import string
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from s8_shared.contracts import Channel, Language, Priority

_TIGHTEST_FIRST = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
_PLACEHOLDERS = frozenset({"ticket_id", "promise"})


class Promise(timedelta):
    """A promised delay; `business` says it counts working time only ("4 business hours")."""

    business: bool

    def __new__(cls, minutes: float, business: bool = False) -> Promise:
        made = super().__new__(cls, minutes=minutes)
        made.business = business
        return made

    def __repr__(self) -> str:
        return f"Promise(minutes={self.total_seconds() / 60:g}, business={self.business})"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Target(_Model):
    minutes: int = Field(ge=0, le=60 * 24 * 30)
    business: bool = False


class Template(_Model):
    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)

    @model_validator(mode="after")
    def _placeholders(self) -> Template:
        for text in (self.subject, self.body):
            used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            if used - _PLACEHOLDERS:
                raise ValueError(f"unknown placeholders {sorted(used - _PLACEHOLDERS)}")
        if "[#{ticket_id}]" not in self.subject + self.body:
            raise ValueError("the ticket token [#{ticket_id}] must appear so replies thread back")
        return self


class Wording(_Model):
    immediately: str
    within: str
    and_: str = Field(alias="and")
    minute: tuple[str, str]
    hour: tuple[str, str]
    day: tuple[str, str]
    business_hour: tuple[str, str]
    business_day: tuple[str, str]


class Acknowledgement(_Model):
    channels: frozenset[Channel]
    templates: dict[Language, Template]
    wording: dict[Language, Wording]


class SupportPolicy(_Model):
    version: int = Field(ge=1)
    business_day_hours: int = Field(default=8, ge=1, le=24)
    promises: dict[Channel, dict[Priority, Target]]
    acknowledgement: Acknowledgement

    @model_validator(mode="after")
    def _complete(self) -> SupportPolicy:
        if missing := set(Channel) - set(self.promises):
            raise ValueError(f"no promises for channels {sorted(c.value for c in missing)}")
        for channel, targets in self.promises.items():
            if gaps := set(Priority) - set(targets):
                raise ValueError(f"{channel.value}: no promise for {sorted(p.value for p in gaps)}")
            minutes = [targets[p].minutes for p in _TIGHTEST_FIRST]
            if minutes != sorted(minutes):
                raise ValueError(
                    f"{channel.value}: urgent must be the tightest promise, then high…"
                )
        for language in Language:
            if language not in self.acknowledgement.templates:
                raise ValueError(f"no acknowledgement template in {language.value!r}")
            if language not in self.acknowledgement.wording:
                raise ValueError(f"no wording in {language.value!r}")
        return self


def acknowledges(policy: SupportPolicy, channel: Channel) -> bool:
    return channel in policy.acknowledgement.channels


def promise(policy: SupportPolicy, channel: Channel, priority: Priority) -> Promise:
    target = policy.promises[channel][priority]
    return Promise(target.minutes, target.business)


def _count(n: int, forms: tuple[str, str]) -> str:
    return f"{n} {forms[0] if n == 1 else forms[1]}"


def promise_in_words(policy: SupportPolicy, language: Language, delay: timedelta) -> str:
    """ "trong vòng 4 giờ làm việc" / "within 4 business hours"; 0 → "right away"."""
    words = policy.acknowledgement.wording[language]
    minutes = round(delay.total_seconds() / 60)
    if minutes <= 0:
        return words.immediately
    business = isinstance(delay, Promise) and delay.business
    day = policy.business_day_hours * 60 if business else 24 * 60
    hour_forms = words.business_hour if business else words.hour
    if minutes % day == 0:
        duration = _count(minutes // day, words.business_day if business else words.day)
    else:
        hours, rest = divmod(minutes, 60)
        parts = [_count(hours, hour_forms)] if hours else []
        parts += [_count(rest, words.minute)] if rest else []
        duration = words.and_.join(parts)
    return words.within.format(duration=duration)


def acknowledgement_text(
    policy: SupportPolicy, language: Language, ticket_id: str, promise: timedelta
) -> tuple[str, str]:
    """(subject, body) telling the customer their ticket number and when to expect us."""
    template = policy.acknowledgement.templates[language]
    values = {"ticket_id": ticket_id, "promise": promise_in_words(policy, language, promise)}
    return template.subject.format(**values), template.body.format(**values).strip()
