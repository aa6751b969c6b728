"""What a message's identities settle about its customer beyond who wrote it: the candidates
it asserts are kept and the merges they suggest raised (`Customers.note_candidates`), and a
verified channel confirms a suggestion: the proven sender of a message naming another
customer's ticket (`[#T-…]`), when that customer asserted this sender's address, is the same
person (whoever reads that mailbox was in that conversation)."""

from __future__ import annotations

from datetime import datetime

from s8_intake.adapters.customer_store import ResolvedCustomer
from s8_intake.domain.model import NormalizedMessage
from s8_intake.ports import Customers, Tickets


async def settle(
    customers: Customers,
    tickets: Tickets,
    msg: NormalizedMessage,
    customer: ResolvedCustomer,
    now: datetime,
) -> ResolvedCustomer:
    """The message's customer once its identities are settled (merged when a verified channel
    confirms a suggestion: then the ticket it names is theirs too)."""
    await customers.note_candidates(
        customer,
        msg.candidates,
        channel=msg.channel.value,
        source=msg.dedup_key,
        now=now,
    )
    if not msg.ticket_token:
        return customer
    named = await tickets.load(msg.ticket_token)
    if named is None or named[0].snapshot.customer_id in customer.related_ids:
        return customer
    pair = (customer.customer_id, named[0].snapshot.customer_id)
    by = f"verified {msg.channel.value} sender"
    if not await customers.confirm_proven(pair, msg.identities, now, by):
        return customer
    return await customers.resolve(msg.identities, now, source=msg.dedup_key)
