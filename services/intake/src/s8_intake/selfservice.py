"""The data-driven parts of intake: classification rules (reloaded on change), sentiment
lexicon, FAQ articles and the published support policy; what a new ticket gets first is
decided from them by `domain.first_answer`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from s8_intake.adapters import data_files
from s8_intake.adapters.rules_file import ReloadingFile
from s8_intake.domain import rules
from s8_intake.domain.first_answer import SelfServiceData
from s8_intake.domain.model import Classification, KbArticle, NormalizedMessage
from s8_intake.domain.threading import ThreadingPolicy
from s8_shared.contracts import Channel, CustomerTier
from s8_shared.data_files import load_model
from s8_shared.nlp import sentiment
from s8_shared.nlp.sentiment import Sentiment


@dataclass(frozen=True)
class SelfServiceConfig:
    rules_path: Path = data_files.DEFAULT_RULES_PATH
    lexicon_path: Path = sentiment.DEFAULT_LEXICON_PATH
    policy_path: Path = data_files.DEFAULT_POLICY_PATH
    faq_threshold: float = 0.72
    threading_policy: ThreadingPolicy = field(default_factory=ThreadingPolicy)


class SelfService:
    def __init__(self, config: SelfServiceConfig, articles: list[KbArticle]) -> None:
        self.config = config
        self.rules = ReloadingFile(config.rules_path, data_files.load_rules)
        self.lexicon = load_model(config.lexicon_path, sentiment.Lexicon)
        self.policy = data_files.load_policy(config.policy_path)
        self.articles = articles
        self.threading_policy = config.threading_policy

    def sentiment(self, text: str) -> Sentiment:
        return sentiment.score(text, self.lexicon)

    def classify(
        self, msg: NormalizedMessage, tier: CustomerTier, mood: Sentiment
    ) -> Classification:
        return rules.classify(
            self.rules.get(),
            text=msg.text,
            subject=msg.subject,
            channel=msg.channel,
            ivr_path=msg.ivr_path,
            customer_tier=tier,
            customer_category=msg.customer_category,
            negative_sentiment=mood.negative,
            call_outcome=call_outcome(msg),
        )

    def use_articles(self, articles: list[KbArticle]) -> None:
        """The knowledge base as stored now (at start, and after a lead edits it)."""
        self.articles = articles

    def answers(self) -> SelfServiceData:
        """What a new ticket's first answer is chosen from (the articles as loaded now)."""
        return SelfServiceData(self.articles, self.policy, self.config.faq_threshold)


def call_outcome(msg: NormalizedMessage) -> rules.CallOutcome | None:
    """How a phone call ended, for the rules that mark callbacks; None for other channels."""
    if msg.channel != Channel.PHONE:
        return None
    if msg.details.get("missed"):
        return "missed"
    return "abandoned" if msg.details.get("abandoned") else "answered"
