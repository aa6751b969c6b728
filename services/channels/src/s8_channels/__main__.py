"""`python -m s8_channels` (or `s8-channels`): run the channels service."""

from __future__ import annotations

from s8_channels.app import build
from s8_channels.settings import ChannelsSettings
from s8_shared.runtime import serve_service


def main() -> None:
    serve_service(ChannelsSettings, build)


if __name__ == "__main__":
    main()
