"""Customers: attribute upserts from a CRM, the 360 view across channels, and undoing a
merge of two customers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from s8_intake.domain.identities import normalize_identity
from s8_intake.ports import Clock, Customers, Tickets
from s8_shared.contracts import CustomerProfileUpsert, InvalidMessage, utcnow
from s8_shared.contracts.customers import ChannelFollow
from s8_shared.mongo import Document


class ContactHistory(Protocol):
    """Notices sent about known problems (`service.problems.KnownProblems`)."""

    async def contacts_of(self, customer_ids: Sequence[str]) -> list[Document]: ...


class CustomerDesk:
    def __init__(
        self,
        *,
        customers: Customers,
        tickets: Tickets,
        contacts: ContactHistory,
        clock: Clock = utcnow,
    ) -> None:
        self.customers = customers
        self.tickets = tickets
        self.contacts = contacts
        self.clock = clock

    async def upsert_customer(self, upsert: CustomerProfileUpsert) -> dict[str, Any]:
        now = self.clock()
        identities = [
            i for i in (normalize_identity(i) for i in upsert.identities) if i is not None
        ]
        if not identities:
            raise InvalidMessage("none of the identities is valid")
        resolved = await self.customers.resolve(
            identities, now, source=f"upsert:{upsert.upsert_id}"
        )
        fields = {
            k: (v.value if hasattr(v, "value") else v)
            for k, v in {
                "name": upsert.name,
                "tier": upsert.tier,
                "language": upsert.language,
                "region": upsert.region,
                "external_id": upsert.external_id,
                "preferred_channel": upsert.preferred_channel,
                "products": upsert.products,
            }.items()
            if v is not None
        }
        if upsert.follow is not None:
            fields |= await self._follow(resolved.doc, upsert.follow)
        await self.customers.update_profile(resolved.customer_id, fields)
        return {**resolved.doc, **fields}

    @staticmethod
    async def _follow(doc: Document, follow: ChannelFollow) -> dict[str, Any]:
        """The customer's follow state of an account, unless a newer one is kept (a platform
        may deliver an unfollow before the follow that preceded it)."""
        kept = [f for f in doc.get("follows") or [] if f.get("account") != follow.account]
        known = next(
            (f for f in doc.get("follows") or [] if f.get("account") == follow.account), None
        )
        if known is not None and known["at"] >= follow.at:
            return {}
        return {"follows": [*kept, follow.model_dump()]}

    async def customer_360(self, customer_id: str) -> dict[str, Any] | None:
        doc = await self.customers.get(customer_id)
        if doc is None:
            return None
        if doc.get("merged_into"):
            return await self.customer_360(doc["merged_into"])
        ids = [customer_id, *await self.customers.merged_into(customer_id)]
        return {
            "customer": doc,
            "identities": await self.customers.identities_of(ids),
            "tickets": await self.tickets.for_customers(ids),
            "merges": await self.customers.merges_of(customer_id),
            "suggestions": await self.customers.suggestions_of(ids),
            "proactive_contacts": await self.contacts.contacts_of(ids),
        }

    async def undo_merge(self, merge_id: str, by: str) -> Document:
        return await self.customers.undo_merge(merge_id, self.clock(), by=by)

    async def confirm_suggestion(self, suggestion_id: str, by: str) -> Document:
        return await self.customers.confirm_suggestion(suggestion_id, self.clock(), by=by)

    async def dismiss_suggestion(self, suggestion_id: str, by: str) -> Document:
        return await self.customers.dismiss_suggestion(suggestion_id, self.clock(), by=by)
