"""Candidate identities customers asserted, and the merges they suggest.

An asserted identity nobody owns is kept on the identity's document, unclaimed, naming who
asserted it; when a channel later proves it for another customer (that address writes an
e-mail), or when it is already someone else's, the two customers get one suggested merge (per
pair and identity) with a confidence and a reason, for an agent to confirm or dismiss.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from s8_intake.domain.candidates import CONFIDENCE, Candidate, suggestion_id
from s8_intake.domain.customers import identity_key, pair_key
from s8_shared.contracts import Identity
from s8_shared.mongo import Document, IndexSpec, MongoStore

IDENTITIES = "identities"
# The owner of an identity only asserted so far: a value no customer id takes, and not null
# (a join on a null customer id would match every customer that is not merged).
UNCLAIMED = ""
SUGGESTIONS = "merge_suggestions"
MAX_LISTED = 50


class SuggestionNotFound(LookupError):
    pass


class SuggestionClosed(ValueError):
    """Confirmed or dismissed already."""


class IdentitySuggestions:
    INDEXES = (IndexSpec(SUGGESTIONS, [("customers", ASCENDING)]),)

    def __init__(self, store: MongoStore) -> None:
        self.identities = store.collection(IDENTITIES)
        self.suggestions = store.collection(SUGGESTIONS)

    async def keep_candidate(
        self, customer_id: str, candidate: Candidate, channel: str, source: str
    ) -> None:
        """Kept on the identity's own document while nobody owns it (`UNCLAIMED`): the
        resolution that later claims it reads who asserted it in the same round trip."""
        with contextlib.suppress(DuplicateKeyError):  # claimed meanwhile: nothing to keep
            await self.identities.update_one(
                {"_id": identity_key(candidate.identity), "customer_id": UNCLAIMED},
                {
                    "$setOnInsert": {
                        "kind": candidate.identity.kind,
                        "value": candidate.identity.value,
                    },
                    "$addToSet": {
                        "asserted_by": {
                            "customer_id": customer_id,
                            "how": candidate.source,
                            "channel": channel,
                            "message": source,
                        }
                    },
                },
                upsert=True,
            )

    async def suggest(
        self,
        customers: tuple[str, str],
        identity: Identity,
        *,
        confidence: float,
        reason: str,
        source: str,
        now: datetime,
    ) -> str:
        """One open suggestion per pair and identity; a dismissed one is not raised again."""
        sid = suggestion_id(*customers, identity)
        await self.suggestions.update_one(
            {"_id": sid},
            {
                "$setOnInsert": {
                    "customers": sorted(customers),
                    "pair": pair_key(*customers),
                    "identity": {"kind": identity.kind, "value": identity.value},
                    "confidence": confidence,
                    "reason": reason,
                    "message": source,
                    "state": "open",
                    "at": now,
                }
            },
            upsert=True,
        )
        return sid

    async def get(self, suggestion_id_: str) -> Document:
        doc = await self.suggestions.find_one({"_id": suggestion_id_})
        if doc is None:
            raise SuggestionNotFound(suggestion_id_)
        return doc

    async def close(
        self, suggestion_id_: str, state: str, by: str, now: datetime, **extra: Any
    ) -> Document:
        """Marks an open suggestion confirmed or dismissed (once: SuggestionClosed after)."""
        doc = await self.suggestions.find_one_and_update(
            {"_id": suggestion_id_, "state": "open"},
            {"$set": {"state": state, "closed_by": by, "closed_at": now, **extra}},
        )
        if doc is None:
            await self.get(suggestion_id_)  # SuggestionNotFound when there is none
            raise SuggestionClosed(suggestion_id_)
        return {**doc, "state": state, "closed_by": by, "closed_at": now, **extra}

    async def of_customers(self, customer_ids: Sequence[str]) -> list[Document]:
        cursor = self.suggestions.find({"customers": {"$in": list(customer_ids)}}).limit(MAX_LISTED)
        return [d async for d in cursor]


def confidence_of(how: str) -> float:
    """The confidence of a stored candidate's source (the lowest for one unknown here)."""
    known: dict[str, float] = {str(k): v for k, v in CONFIDENCE.items()}
    return known.get(how, min(known.values()))
