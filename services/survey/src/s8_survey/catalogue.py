"""The survey's texts, one message catalogue per language (`messages/<language>.yaml`):
the customer pages and the invitation. Read once at start (`load_catalogues`) into models,
so a missing or misspelt key fails the service's start, not a customer's page."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from s8_shared.contracts import Language
from s8_shared.data_files import load_model

MESSAGES_DIR = Path(__file__).parent / "messages"
DEFAULT_LANGUAGE = Language.VI
Text = Annotated[str, StringConstraints(min_length=1)]


class _Texts(BaseModel):
    # A key a catalogue lacks or one that no page uses is an error: catalogues stay alike.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Refusals(_Texts):
    """Why the page cannot take an answer, by refusal reason."""

    forged: Text
    malformed: Text
    expired: Text
    already_answered: Text
    missing: Text
    score: Text

    def for_reason(self, reason: str) -> str:
        """The text for a refusal reason (`already answered`, `expired`, ...); a reason
        without its own text reads as an invalid link."""
        text = getattr(self, reason.replace(" ", "_"), None)
        return text if isinstance(text, str) else self.forged


class Invitation(_Texts):
    """The message that carries the survey link; `{ticket}` and `{link}` are filled in."""

    subject: Text
    csat: Text
    nps: Text

    def text(self, kind: str, *, ticket: str | None, link: str) -> str:
        template = self.csat if kind == "csat" else self.nps
        return template.format(ticket=ticket, link=link)


class Catalogue(_Texts):
    title: Text
    csat_question: Text
    nps_question: Text
    csat_labels: tuple[Text, Text, Text, Text, Text] = Field(description="Scores 1 to 5.")
    nps_low: Text
    nps_high: Text
    comment: Text
    submit: Text
    thanks: Text
    thanks_body: Text
    ticket: Text
    refused: Refusals
    invitation: Invitation

    def csat_label(self, score: int) -> str:
        return self.csat_labels[score - 1]


class Catalogues:
    """Every language's catalogue; a language without one is answered in Vietnamese."""

    def __init__(self, by_language: Mapping[str, Catalogue]) -> None:
        if DEFAULT_LANGUAGE.value not in by_language:
            raise ValueError(f"no catalogue for the default language {DEFAULT_LANGUAGE.value}")
        self.by_language = dict(by_language)

    def language_of(self, value: object) -> str:
        known = isinstance(value, str) and value in self.by_language
        return str(value) if known else DEFAULT_LANGUAGE.value

    def __getitem__(self, language: object) -> Catalogue:
        return self.by_language[self.language_of(language)]


def catalogue_path(language: str, directory: Path = MESSAGES_DIR) -> Path:
    return directory / f"{language}.yaml"


def load_catalogues(directory: Path = MESSAGES_DIR) -> Catalogues:
    """One catalogue per language s8 speaks (DataFileError when one is missing or invalid)."""
    return Catalogues(
        {
            lang.value: load_model(catalogue_path(lang.value, directory), Catalogue)
            for lang in Language
        }
    )
