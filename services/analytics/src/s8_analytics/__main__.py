"""`python -m s8_analytics` (or `s8-analytics`): run the analytics service."""

from __future__ import annotations

from s8_analytics.app import build
from s8_analytics.settings import AnalyticsSettings
from s8_shared.runtime import serve_service


def main() -> None:
    serve_service(AnalyticsSettings, build)


if __name__ == "__main__":
    main()
