from datetime import timedelta

import pytest

from s8_intake.domain.candidates import suggestion_id
from s8_intake.domain.customers import (
    KnownCustomer,
    identity_key,
    merge_id,
    new_customer_id,
    pair_key,
    resolve,
)
from s8_shared.contracts import Identity
from s8_testing.builders import T0

EMAIL = Identity(kind="email", value="lan.nguyen@example.vn")
PHONE = Identity(kind="phone", value="+84903123456")
VISITOR = Identity(kind="chat_visitor", value="v-42")


def test_unknown_identities_make_a_new_customer_with_a_stable_id() -> None:
    first = resolve([EMAIL, PHONE], {})
    assert first.customer_id == new_customer_id(EMAIL) == resolve([EMAIL, PHONE], {}).customer_id
    assert first.new_identities == (EMAIL, PHONE)
    assert not first.is_merge


def test_a_known_identity_finds_the_customer_and_new_ones_join_it() -> None:
    owners = {identity_key(EMAIL): KnownCustomer("C-lan", T0)}
    found = resolve([EMAIL, PHONE], owners)
    assert found.customer_id == "C-lan"
    assert found.new_identities == (PHONE,)


def test_identities_owned_by_two_customers_merge_into_the_oldest() -> None:
    owners = {
        identity_key(VISITOR): KnownCustomer("C-visitor", T0 + timedelta(days=3)),
        identity_key(EMAIL): KnownCustomer("C-lan", T0),
    }
    merge = resolve([VISITOR, EMAIL], owners)
    assert merge.customer_id == "C-lan"
    assert merge.merged_customer_ids == ("C-visitor",)
    assert merge.is_merge


def test_a_message_needs_an_identity() -> None:
    with pytest.raises(ValueError, match="at least one identity"):
        resolve([], {})


def test_two_customers_whose_merge_was_undone_are_not_merged_again() -> None:
    owners = {
        identity_key(VISITOR): KnownCustomer("C-visitor", T0 + timedelta(days=3)),
        identity_key(EMAIL): KnownCustomer("C-lan", T0),
    }
    apart = resolve([VISITOR, EMAIL], owners, separated={pair_key("C-visitor", "C-lan")})
    assert not apart.is_merge
    assert apart.customer_id == "C-visitor"  # the author: the message's first identity
    assert apart.new_identities == ()


def test_a_merge_id_repeats_for_a_redelivery_and_differs_for_a_later_message() -> None:
    first = merge_id("C-lan", ["C-visitor"], "zalo:msg-1")
    assert merge_id("C-lan", ["C-visitor"], "zalo:msg-1") == first
    assert merge_id("C-lan", ["C-visitor"], "zalo:msg-2") != first


def test_a_suggestion_names_the_pair_in_either_order() -> None:
    assert suggestion_id("C-a", "C-b", EMAIL) == suggestion_id("C-b", "C-a", EMAIL)
    assert suggestion_id("C-a", "C-b", EMAIL) != suggestion_id("C-a", "C-b", PHONE)
    assert pair_key("C-b", "C-a") == pair_key("C-a", "C-b")
