"""`python -m s8_desk` (or `s8-desk`): run the desk service."""

from __future__ import annotations

from s8_desk.app import build
from s8_desk.settings import DeskSettings
from s8_shared.runtime import serve_service


def main() -> None:
    serve_service(DeskSettings, build)


if __name__ == "__main__":
    main()
