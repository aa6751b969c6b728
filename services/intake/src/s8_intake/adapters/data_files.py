"""Intake's shipped data files (classification rules, support policy, FAQ articles,
compensation limits), read with the one YAML loader (`s8_shared.data_files`) at the edge:
the domain modules take the validated models and read no files."""

from __future__ import annotations

from pathlib import Path

from s8_intake.domain.compensation import CompensationLimits
from s8_intake.domain.faq import ArticlesDoc, articles_of
from s8_intake.domain.model import KbArticle
from s8_intake.domain.policy import SupportPolicy
from s8_intake.domain.rules import RuleSet, parse_rules
from s8_shared.data_files import load_model, read_yaml

DATA_DIR = Path(__file__).parent.parent / "data"
DEFAULT_RULES_PATH = DATA_DIR / "classification.yaml"
DEFAULT_POLICY_PATH = DATA_DIR / "support_policy.yaml"
DEFAULT_ARTICLES_PATH = DATA_DIR / "kb_articles.yaml"
DEFAULT_LIMITS_PATH = DATA_DIR / "compensation_limits.yaml"


def load_rules(path: Path) -> RuleSet:
    # Not load_model: rule errors name the rule (`parse_rules`), not pydantic's location.
    return parse_rules(read_yaml(path), str(path))


def load_policy(path: Path) -> SupportPolicy:
    return load_model(path, SupportPolicy)


def load_articles(path: Path) -> list[KbArticle]:
    return articles_of(load_model(path, ArticlesDoc))


def load_limits(path: Path = DEFAULT_LIMITS_PATH) -> CompensationLimits:
    return load_model(path, CompensationLimits)
