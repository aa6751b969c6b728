"""What a message's asserted and proven identities suggest about other customers.

- An asserted identity (`Candidate`) another customer owns: a suggested merge of the two.
- An asserted identity nobody owns: kept as this customer's candidate.
- A proven identity (the sender) another customer asserted earlier: a suggested merge too
  (a Zalo customer wrote "my e-mail is x@y", and x@y now writes by e-mail).
Pairs whose merge was undone are not suggested again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from s8_intake.adapters.customer_merges import CustomerMerges
from s8_intake.adapters.identity_suggestions import (
    IdentitySuggestions,
    SuggestionClosed,
    SuggestionNotFound,
    confidence_of,
)
from s8_intake.domain.candidates import Candidate, suggestion_id
from s8_intake.domain.customers import KnownCustomer, pair_key
from s8_shared.contracts import Identity
from s8_shared.mongo import Document


class Owners(Protocol):
    async def owners(self, identities: Sequence[Identity]) -> dict[str, KnownCustomer]: ...

    async def profiles(self, customer_ids: Sequence[str]) -> dict[str, Document]: ...


class CandidateLinks:
    def __init__(
        self, owners: Owners, merges: CustomerMerges, suggestions: IdentitySuggestions
    ) -> None:
        self.owners = owners
        self.merges = merges
        self.suggestions = suggestions

    async def note(
        self,
        customer_id: str,
        related_ids: Sequence[str],
        asserted_before: Sequence[Document],
        asserted: Sequence[Candidate],
        *,
        channel: str,
        source: str,
        now: datetime,
    ) -> list[str]:
        """Keeps candidates and raises suggestions; returns the suggestion ids raised."""
        raised: list[str] = []
        owners = await self.owners.owners([c.identity for c in asserted]) if asserted else {}
        for candidate in asserted:
            owner = owners.get(f"{candidate.identity.kind}:{candidate.identity.value}")
            if owner is None:
                await self.suggestions.keep_candidate(customer_id, candidate, channel, source)
            elif owner.customer_id not in related_ids:
                sid = await self._suggest(
                    customer_id,
                    owner.customer_id,
                    candidate.identity,
                    confidence=candidate.confidence,
                    reason=f"{candidate.reason(channel)} by {customer_id}; "
                    f"{owner.customer_id} owns it",
                    source=source,
                    now=now,
                )
                raised += [sid] if sid else []
        for record in asserted_before:  # this sender's address, asserted by others before
            other = await self.live(record["customer_id"])
            if other is None or other in related_ids:
                continue
            identity = record["identity"]
            sid = await self._suggest(
                customer_id,
                other,
                identity,
                confidence=confidence_of(record["how"]),
                reason=f"{identity.kind} {identity.value} was given by {other} "
                f"({record['how']}, {record['channel']}); it then wrote by {channel} "
                f"as {customer_id}",
                source=source,
                now=now,
            )
            raised += [sid] if sid else []
        return raised

    async def confirm(self, suggestion_id: str, now: datetime, by: str) -> Document:
        """The two customers are one person (an agent says so, or a verified channel shows
        it): the oldest survives. Such a merge is undone like any other, and stays undone."""
        doc = await self.suggestions.get(suggestion_id)
        if doc["state"] != "open":
            raise SuggestionClosed(suggestion_id)
        live = {c for c in [await self.live(c) for c in doc["customers"]] if c}
        merge = None
        if len(live) > 1:
            docs = sorted(
                (await self.owners.profiles(sorted(live))).values(),
                key=lambda d: (d["created_at"], d["_id"]),
            )
            merged = [d["_id"] for d in docs[1:]]
            merge = await self.merges.merge(
                docs[0]["_id"], merged, now, f"suggestion:{suggestion_id}:{by}"
            )
        return await self.suggestions.close(suggestion_id, "confirmed", by, now, merge_id=merge)

    async def confirm_proven(
        self, customer_ids: tuple[str, str], proven: Sequence[Identity], now: datetime, by: str
    ) -> bool:
        """Confirms the open suggestion of these two customers about an identity the channel
        proves (the sender of a mail that names the other customer's ticket); False if none."""
        ids = [suggestion_id(*customer_ids, identity) for identity in proven]
        for sid in ids:
            with contextlib.suppress(SuggestionNotFound, SuggestionClosed):
                await self.confirm(sid, now, by)
                return True
        return False

    async def _suggest(
        self,
        a: str,
        b: str,
        identity: Identity,
        *,
        confidence: float,
        reason: str,
        source: str,
        now: datetime,
    ) -> str | None:
        if pair_key(a, b) in await self.merges.separated([a, b]):
            return None  # an agent undid their merge: not suggested again
        return await self.suggestions.suggest(
            (a, b), identity, confidence=confidence, reason=reason, source=source, now=now
        )

    async def live(self, customer_id: str) -> str | None:
        """The customer this one is now (it may have been merged into another since)."""
        seen: set[str] = set()
        while customer_id not in seen:
            seen.add(customer_id)
            doc = (await self.owners.profiles([customer_id])).get(customer_id)
            if doc is None:
                return None
            if not doc.get("merged_into"):
                return customer_id
            customer_id = doc["merged_into"]
        return None
