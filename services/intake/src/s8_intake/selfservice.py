"""The data-driven parts of intake: classification rules, sentiment lexicon, FAQ
articles and the published support policy, and what a new ticket gets first
(a FAQ auto-reply that deflects it, or an acknowledgement with the promised time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from s8_intake.adapters import data_files
from s8_intake.adapters.rules_file import ReloadingFile
from s8_intake.domain import faq, policy, rules
from s8_intake.domain.model import Classification, KbArticle, NormalizedMessage
from s8_intake.domain.outbound import to_customer
from s8_intake.domain.threading import ThreadingPolicy
from s8_intake.domain.ticket import Change, deflect
from s8_shared.contracts import Channel, CustomerTier, Event, Priority
from s8_shared.nlp import sentiment
from s8_shared.nlp.sentiment import Sentiment

# A FAQ answer suits written questions; not calls, not a bot that already tried, not a
# customer who is angry or in a hurry.
DEFLECTABLE = frozenset(
    {Channel.EMAIL, Channel.WEB_FORM, Channel.LIVE_CHAT, Channel.SOCIAL, Channel.SMS}
)


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
        self.lexicon = sentiment.load_lexicon(config.lexicon_path)
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
        )

    def first_response(
        self, change: Change, msg: NormalizedMessage, now: datetime
    ) -> tuple[Change, list[Event[Any]]]:
        """A new ticket's first answer: a confident FAQ match deflects it (auto-reply,
        pending); otherwise channels where the customer waits get an acknowledgement."""
        snap = change.state.snapshot
        if (
            msg.channel in DEFLECTABLE
            and snap.priority in (Priority.NORMAL, Priority.LOW)
            and not snap.negative_sentiment
        ):
            found = faq.match(
                msg.text, self.articles, snap.language, threshold=self.config.faq_threshold
            )
            article = next(
                (a for a in self.articles if found and a.article_id == found.article_id), None
            )
            if found and article:
                deflected = deflect(change.state, found.article_id, found.score, now)
                reply = to_customer(
                    deflected.state,
                    "auto_reply_faq",
                    f"{article.title}\n\n{article.body}",
                    now,
                    subject=article.title,
                    article_id=article.article_id,
                    reply_to_message_id=msg.dedup_key.split(":", 1)[1],
                )
                return deflected, [*deflected.events, *([reply] if reply else [])]
        if policy.acknowledges(self.policy, msg.channel):
            promised = policy.promise(self.policy, msg.channel, snap.priority)
            subject, text = policy.acknowledgement_text(
                self.policy, snap.language, snap.ticket_id, promised
            )
            ack = to_customer(
                change.state,
                "acknowledgement",
                text,
                now,
                subject=subject,
                reply_to_message_id=msg.dedup_key.split(":", 1)[1],
            )
            return change, [ack] if ack else []
        return change, []
