from datetime import timedelta

import pytest

from s8_intake.domain.customers import KnownCustomer, identity_key, new_customer_id, resolve
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
