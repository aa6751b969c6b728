"""Survey metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class SurveyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sent = Counter(
            "s8_survey_sent_total", "Surveys sent.", ["kind", "channel"], registry=registry
        )
        self.answers = Counter(
            "s8_survey_answers_total",
            "Answers stored (first answers only).",
            ["kind"],
            registry=registry,
        )
        self.scores = Histogram(
            "s8_survey_score",
            "Scores given.",
            ["kind"],
            buckets=tuple(range(0, 11)),
            registry=registry,
        )
        self.followups = Counter(
            "s8_survey_followups_total",
            "Follow-ups requested for unhappy customers.",
            ["kind"],
            registry=registry,
        )
