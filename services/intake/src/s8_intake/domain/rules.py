"""Classification as data: an ordered list of rules, each `when` (conditions, all of which
must hold) → `set` (fields). Pure given a loaded `RuleSet`.

- category, team, tier_required: the first matching rule that sets the field wins;
- skills: every matching rule adds its skills (in rule order, no duplicates);
- priority: the highest of the default and every matching rule — a rule can only raise it.
  Rules conditioned on `priority` see that final priority and may not set one themselves.

Every decision is explained: `Classification.explanations` maps each field to the rule id
that set it, "default" (from `defaults`), or for language "hint" / "detected".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from s8_intake.domain.model import Classification
from s8_shared.contracts import Channel, CustomerTier, Language, Priority
from s8_shared.nlp.text import Word, WordIndex, detect_language, fold, words

_LOWEST_FIRST = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
RANK: dict[Priority, int] = {p: n for n, p in enumerate(_LOWEST_FIRST)}
_SEPARATORS = re.compile(r"[\s\-./>,]+")
CallOutcome = Literal["answered", "missed", "abandoned"]


def category_key(value: str) -> str:
    """Form categories compare folded, with any punctuation as "_": "Thanh toán" → thanh_toan."""
    return re.sub(r"[^a-z0-9]+", "_", fold(value)).strip("_")


def ivr_segments(path: str) -> tuple[str, ...]:
    return tuple(s for s in _SEPARATORS.split(path.strip().lower()) if s)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class When(_Strict):
    keywords: tuple[str, ...] = Field(
        default=(), description="Any of these words or phrases; accents optional."
    )
    exact_keywords: tuple[str, ...] = Field(
        default=(),
        description="Matched only as accented (gấp, not gặp); for ambiguous unaccented forms.",
    )
    channel: tuple[Channel, ...] = ()
    ivr_path: str | None = Field(default=None, description="Prefix of the IVR menu path: 3 ⊃ 3-1.")
    customer_tier: tuple[CustomerTier, ...] = ()
    customer_category: tuple[str, ...] = ()
    negative_sentiment: bool | None = None
    priority: tuple[Priority, ...] = Field(
        default=(), description="The priority decided by the priority rules."
    )
    call_outcome: tuple[CallOutcome, ...] = Field(
        default=(), description="How a phone call ended: nobody answered, or hung up waiting."
    )

    @model_validator(mode="after")
    def _has_conditions(self) -> When:
        if not self.model_dump(exclude_defaults=True):
            raise ValueError("'when' has no conditions (use `defaults` for fallbacks)")
        for phrase in (*self.keywords, *self.exact_keywords):
            if not words(phrase):
                raise ValueError(f"keyword {phrase!r} has no words")
        if self.ivr_path is not None and not ivr_segments(self.ivr_path):
            raise ValueError("ivr_path is empty")
        return self


class Then(_Strict):
    category: str | None = None
    skills: tuple[str, ...] = ()
    priority: Priority | None = None
    team: str | None = None
    tier_required: str | None = None
    callback: bool | None = Field(
        default=None, description="Mark the ticket as a callback request (the first wins)."
    )

    @model_validator(mode="after")
    def _sets_something(self) -> Then:
        if not self.model_dump(exclude_defaults=True):
            raise ValueError("'set' sets nothing")
        return self


class Rule(_Strict):
    id: str = Field(min_length=1)
    description: str = ""
    when: When
    then: Then = Field(alias="set")

    @model_validator(mode="after")
    def _no_priority_loop(self) -> Rule:
        if self.when.priority and self.then.priority is not None:
            raise ValueError("a rule conditioned on priority may not set priority")
        return self


class Defaults(_Strict):
    category: str | None = None
    priority: Priority = Priority.NORMAL
    skills: tuple[str, ...] = ()
    team: str | None = None
    tier_required: str | None = None


class RuleSet(_Strict):
    version: int = Field(ge=1)
    defaults: Defaults = Defaults()
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule {rule.id!r}: duplicate rule id")
            seen.add(rule.id)
            wanted = rule.then.priority
            if wanted is not None and RANK[wanted] < RANK[self.defaults.priority]:
                raise ValueError(
                    f"rule {rule.id!r}: a rule can only raise priority, and {wanted.value!r} "
                    f"is below the default {self.defaults.priority.value!r}"
                )
        return self


@dataclass(frozen=True)
class _Facts:
    words: Sequence[Word]
    index: WordIndex  # where each folded word is: a keyword is looked for only there
    channel: Channel
    ivr: tuple[str, ...] | None
    tier: CustomerTier
    category: str | None
    negative: bool
    call_outcome: CallOutcome | None


@lru_cache(maxsize=4096)
def _phrase(text: str) -> tuple[Word, ...]:
    return tuple(words(text))


def _matches(when: When, facts: _Facts, priority: Priority | None) -> bool:
    if when.channel and facts.channel not in when.channel:
        return False
    if when.customer_tier and facts.tier not in when.customer_tier:
        return False
    if when.negative_sentiment is not None and when.negative_sentiment != facts.negative:
        return False
    if when.priority and priority not in when.priority:
        return False
    if when.call_outcome and facts.call_outcome not in when.call_outcome:
        return False
    if when.ivr_path is not None:
        prefix = ivr_segments(when.ivr_path)
        if facts.ivr is None or facts.ivr[: len(prefix)] != prefix:
            return False
    if when.customer_category and (
        facts.category is None
        or facts.category not in {category_key(c) for c in when.customer_category}
    ):
        return False
    if when.keywords or when.exact_keywords:
        wanted = [(k, False) for k in when.keywords] + [(k, True) for k in when.exact_keywords]
        if not any(_found(facts, _phrase(k), exact) for k, exact in wanted):
            return False
    return True


def _found(facts: _Facts, phrase: tuple[Word, ...], exact: bool) -> bool:
    return facts.index.find(phrase, exact=exact) >= 0


def classify(
    rules: RuleSet,
    *,
    text: str,
    subject: str | None,
    channel: Channel,
    ivr_path: str | None,
    customer_tier: CustomerTier,
    customer_category: str | None,
    language_hint: Language | None = None,
    negative_sentiment: bool = False,
    call_outcome: CallOutcome | None = None,
) -> Classification:
    full_text = f"{subject}\n{text}" if subject else text
    found = words(full_text)
    facts = _Facts(
        words=found,
        index=WordIndex(found),
        channel=channel,
        ivr=ivr_segments(ivr_path) if ivr_path else None,
        tier=customer_tier,
        category=category_key(customer_category) if customer_category else None,
        negative=negative_sentiment,
        call_outcome=call_outcome,
    )
    defaults = rules.defaults
    priority, priority_by = defaults.priority, "default"
    for rule in rules.rules:
        wanted = rule.then.priority
        if (
            wanted is not None
            and RANK[wanted] > RANK[priority]
            and _matches(rule.when, facts, None)
        ):
            priority, priority_by = wanted, rule.id

    chosen: dict[str, tuple[str | None, str]] = {
        "category": (defaults.category, "default"),
        "team": (defaults.team, "default"),
        "tier_required": (defaults.tier_required, "default"),
    }
    decided: set[str] = set()
    callback, callback_by = False, None
    skills = list(defaults.skills)
    skills_by = ["default"] if defaults.skills else []
    for rule in rules.rules:
        if not _matches(rule.when, facts, priority):
            continue
        for name in ("category", "team", "tier_required"):
            value: str | None = getattr(rule.then, name)
            if value is not None and name not in decided:
                chosen[name] = (value, rule.id)
                decided.add(name)
        if rule.then.callback is not None and callback_by is None:
            callback, callback_by = rule.then.callback, rule.id
        new = [s for s in rule.then.skills if s not in skills]
        if new:
            skills += new
            skills_by.append(rule.id)

    language = language_hint or detect_language(full_text)
    explanations = {name: by for name, (_, by) in chosen.items()}
    explanations |= {
        "priority": priority_by,
        "skills": ",".join(skills_by) or "default",
        "language": "hint" if language_hint else "detected",
    }
    if callback_by is not None:
        explanations["callback"] = callback_by
    return Classification(
        category=chosen["category"][0],
        required_skills=tuple(skills),
        priority=priority,
        language=language,
        team=chosen["team"][0],
        tier_required=chosen["tier_required"][0],
        explanations=explanations,
        callback=callback,
    )


def _rule_name(raw: Any, loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        try:
            rule_id = raw["rules"][loc[1]].get("id")
        except (KeyError, IndexError, TypeError, AttributeError):
            rule_id = None
        return f"rule {rule_id!r} (#{loc[1] + 1})" if rule_id else f"rule #{loc[1] + 1}"
    return "rule set"


def parse_rules(raw: Any, source: str = "rules") -> RuleSet:
    """Validate a parsed rules document; errors name the rule and the field."""
    try:
        return RuleSet.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            in_rule = len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int)
            where = ".".join(str(p) for p in (loc[2:] if in_rule else loc))
            message = str(err["msg"]).removeprefix("Value error, ")
            prefix = f"{_rule_name(raw, loc)}: " if loc else ""
            problems.append(f"{prefix}{where + ': ' if where else ''}{message}")
        raise ValueError(
            f"{source}: invalid classification rules: " + "; ".join(problems)
        ) from None
