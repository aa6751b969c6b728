"""One customer across channels: resolving identities, merging and undoing merges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from s8_shared.contracts import Identity, deterministic_id


def identity_key(identity: Identity) -> str:
    return f"{identity.kind}:{identity.value}"


def new_customer_id(first: Identity) -> str:
    """Deterministic, so a redelivered message resolves to the same new customer."""
    return "C-" + deterministic_id("customer", identity_key(first)).hex[:16]


@dataclass(frozen=True)
class KnownCustomer:
    customer_id: str
    created_at: datetime


@dataclass(frozen=True)
class Resolution:
    customer_id: str
    new_identities: tuple[Identity, ...]
    merged_customer_ids: tuple[str, ...] = ()

    @property
    def is_merge(self) -> bool:
        return bool(self.merged_customer_ids)


def resolve(
    identities: Sequence[Identity],
    owners: Mapping[str, KnownCustomer],
    separated: AbstractSet[str] = frozenset(),
) -> Resolution:
    """Who sent a message with these identities.

    `identities` are the ones the channel proves (the sender, a phone the platform vouches
    for): never what a customer merely typed (`domain.candidates`). `owners` maps identity
    keys to the (live, not merged-away) customer owning them. Unknown identities join the
    customer; proven identities owned by several customers mean the same person was known
    twice: the oldest customer survives and the others merge into it. Unless a merge of two
    of them was undone (`separated` holds their `pair_key`): then nothing merges, and the
    message belongs to the owner of its first identity (its author).
    """
    if not identities:
        raise ValueError("a message needs at least one identity")
    known = {
        identity_key(i): owners[identity_key(i)] for i in identities if identity_key(i) in owners
    }
    unknown = tuple(i for i in identities if identity_key(i) not in owners)
    if not known:
        return Resolution(new_customer_id(identities[0]), unknown)
    customers = sorted(
        {c.customer_id: c for c in known.values()}.values(),
        key=lambda c: (c.created_at, c.customer_id),
    )
    ids = [c.customer_id for c in customers]
    if any(pair_key(a, b) in separated for n, a in enumerate(ids) for b in ids[n + 1 :]):
        author = next(known[identity_key(i)] for i in identities if identity_key(i) in known)
        return Resolution(author.customer_id, unknown)
    survivor, others = customers[0], customers[1:]
    return Resolution(survivor.customer_id, unknown, tuple(c.customer_id for c in others))


def pair_key(customer_a: str, customer_b: str) -> str:
    """Names a pair of customers in either order (separations after an undone merge)."""
    return "|".join(sorted((customer_a, customer_b)))


def merge_id(survivor: str, merged: Sequence[str], source: str) -> str:
    """The same for a redelivery of the message (or upsert) that caused it, and new for any
    later one: a merge undone stays undone, whatever repeats its identities."""
    return "M-" + deterministic_id("merge", survivor, *sorted(merged), source).hex[:16]
