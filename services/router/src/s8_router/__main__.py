"""`python -m s8_router` (or `s8-router`): run the router service."""

from __future__ import annotations

from s8_router.app import build
from s8_router.settings import RouterSettings
from s8_shared.runtime import serve_service


def main() -> None:
    serve_service(RouterSettings, build)


if __name__ == "__main__":
    main()
