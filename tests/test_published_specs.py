"""The committed API documents (docs/api) match what the code generates."""

import json
from pathlib import Path

from export_specs import documents, render

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api"


def test_committed_openapi_and_asyncapi_documents_are_current() -> None:
    stale = [
        name
        for name, doc in documents().items()
        if not (DOCS / name).exists() or (DOCS / name).read_text(encoding="utf-8") != render(doc)
    ]
    assert not stale, f"run `make docs` and commit: {stale}"


def test_intake_asyncapi_documents_the_ticket_events_and_dead_letters() -> None:
    doc = json.loads((DOCS / "intake.asyncapi.json").read_text(encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    assert {"TicketCreated", "TicketSnapshot", "DeadLetterRecorded"} <= set(schemas)
