"""`python -m s8_intake` (or `s8-intake`): run the intake service."""

from __future__ import annotations

from s8_intake.app import build
from s8_intake.settings import IntakeSettings
from s8_shared.runtime import serve_service


def main() -> None:
    serve_service(IntakeSettings, build)


if __name__ == "__main__":
    main()
