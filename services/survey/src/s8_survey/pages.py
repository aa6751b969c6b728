"""The customer-facing survey pages: server-rendered from Jinja2 templates
(`templates/`, autoescaped), in the survey's language from its message catalogue, usable on
a phone, labelled for screen readers, no external assets."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from s8_survey.catalogue import Catalogues


def template_environment() -> Environment:
    """Templates from the installed package; every value is HTML-escaped unless a template
    says otherwise (none does), and an unknown name fails instead of rendering empty."""
    return Environment(
        loader=PackageLoader("s8_survey", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


TEMPLATES = ("form.html", "thanks.html", "refused.html")


class SurveyPages:
    def __init__(self, catalogues: Catalogues, env: Environment | None = None) -> None:
        self.catalogues = catalogues
        self.env = env or template_environment()
        for name in TEMPLATES:  # read and compiled at start: a broken template fails here
            self.env.get_template(name)

    def language_of(self, value: object) -> str:
        return self.catalogues.language_of(value)

    def _render(self, name: str, lang: str, **values: Any) -> str:
        language = self.language_of(lang)
        template = self.env.get_template(name)
        return template.render(lang=language, t=self.catalogues[language], **values)

    def form(
        self,
        lang: str,
        kind: str,
        ticket_id: str | None,
        action: str,
        *,
        error: str | None = None,
        comment: str | None = None,
    ) -> str:
        """The form; after a refused submission, with the reason and the comment typed."""
        return self._render(
            "form.html",
            lang,
            kind=kind,
            ticket_id=ticket_id,
            action=action,
            error=error,
            comment=comment,
        )

    def thanks(self, lang: str) -> str:
        return self._render("thanks.html", lang)

    def refused(self, lang: str, reason: str) -> str:
        message = self.catalogues[lang].refused.for_reason(reason)
        return self._render("refused.html", lang, message=message)

    def refusal_text(self, lang: str, reason: str) -> str:
        return self.catalogues[lang].refused.for_reason(reason)
