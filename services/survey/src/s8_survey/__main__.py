"""`python -m s8_survey` (or `s8-survey`): run the survey service."""

from __future__ import annotations

from s8_shared.runtime import serve_service
from s8_survey.app import build
from s8_survey.settings import SurveySettings


def main() -> None:
    serve_service(SurveySettings, build)


if __name__ == "__main__":
    main()
