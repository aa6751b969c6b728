"""Writes each service's OpenAPI and AsyncAPI documents (`make docs`).

The documents are generated from the code (FastAPI routes, FastStream subscribers and
publishers, the Pydantic contracts); a test keeps the committed copies current.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from s8_analytics.app import build as build_analytics
from s8_channels.app import build as build_channels
from s8_desk.app import build as build_desk
from s8_intake.app import build as build_intake
from s8_router.app import build as build_router
from s8_shared.runtime import ServiceRuntime
from s8_sla_monitor.app import build as build_sla
from s8_survey.app import build as build_survey

BUILDERS: dict[str, Callable[[], tuple[ServiceRuntime, FastAPI]]] = {
    "intake": build_intake,
    "router": build_router,
    "sla-monitor": build_sla,
    "survey": build_survey,
    "analytics": build_analytics,
    "desk": build_desk,
    "channels": build_channels,
}


def documents() -> dict[str, Any]:
    docs: dict[str, Any] = {}
    for name, build in BUILDERS.items():
        runtime, app = build()
        docs[f"{name}.openapi.json"] = app.openapi()
        docs[f"{name}.asyncapi.json"] = runtime.asyncapi.to_specification().to_jsonable()
    return docs


def render(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/api")
    out.mkdir(parents=True, exist_ok=True)
    for filename, doc in documents().items():
        (out / filename).write_text(render(doc), encoding="utf-8")
        print(f"wrote {out / filename}")


if __name__ == "__main__":
    main()
