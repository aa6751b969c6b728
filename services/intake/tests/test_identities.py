import pytest

from s8_intake.domain.identities import (
    identity_for_email,
    identity_for_id,
    identity_for_phone,
    normalize_email,
    normalize_identity,
    normalize_phone,
    phone_digits,
    unique,
)
from s8_shared.contracts import Identity


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("lan.nguyen@example.vn", "lan.nguyen@example.vn"),
        ("  Lan.Nguyen@Example.VN \n", "lan.nguyen@example.vn"),
        ("SUPPORT@SHOP.COM.VN", "support@shop.com.vn"),
    ],
)
def test_emails_are_stripped_and_lower_cased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0903123456", "+84903123456"),  # Vietnamese national format
        ("84903123456", "+84903123456"),  # country code without +
        ("+84 903 123 456", "+84903123456"),
        ("+84903123456", "+84903123456"),
        ("090-312-3456", "+84903123456"),
        ("(+84) 903.123.456", "+84903123456"),
        ("0084903123456", "+84903123456"),  # international prefix from Vietnam
        (" 0903 123 456 ", "+84903123456"),
        ("028 3823 4567", "+842838234567"),  # Hồ Chí Minh City landline
        ("+65 6123 4567", "+6561234567"),  # Singapore keeps its own country code
        ("+65 9123 4567", "+6591234567"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_valid_phone_numbers_become_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "12345", "0903", "abc", "không có số", "+84903123456789", "+999 123 456"],
)
def test_invalid_phone_numbers_give_none(raw: str) -> None:
    assert normalize_phone(raw) is None


def test_a_number_without_plus_is_read_in_the_default_region() -> None:
    assert normalize_phone("6123 4567", default_region="SG") == "+6561234567"
    assert normalize_phone("6123 4567") is None  # not a Vietnamese number


def test_identity_for_a_valid_phone_is_in_e164() -> None:
    assert identity_for_phone("0903 123 456") == Identity(kind="phone", value="+84903123456")


@pytest.mark.parametrize("raw", [None, "", "123", "gọi lại sau"])
def test_identity_for_a_missing_or_invalid_phone_is_none(raw: str | None) -> None:
    assert identity_for_phone(raw) is None


def test_identity_for_email_is_lower_cased_and_none_when_missing() -> None:
    assert identity_for_email(" Minh.Tran@Gmail.com") == Identity(
        kind="email", value="minh.tran@gmail.com"
    )
    assert identity_for_email(None) is None
    assert identity_for_email("not-an-address") is None


def test_platform_ids_are_kept_as_given_but_blank_ones_are_dropped() -> None:
    assert identity_for_id("zalo", " 84123456789012 ") == Identity(
        kind="zalo", value="84123456789012"
    )
    assert identity_for_id("facebook", "  ") is None
    assert identity_for_id("chat_visitor", None) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+84 903-12", "8490312"), ("VIETTEL", "VIETTEL"), ("  ", "unknown")],
)
def test_phone_digits_keep_an_unvalidated_number_usable(raw: str, expected: str) -> None:
    assert phone_digits(raw) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            Identity(kind="email", value="Lan@Example.VN"),
            Identity(kind="email", value="lan@example.vn"),
        ),
        (Identity(kind="phone", value="0903123456"), Identity(kind="phone", value="+84903123456")),
        (Identity(kind="phone", value="12"), None),
        (Identity(kind="facebook", value=" 2468 "), Identity(kind="facebook", value="2468")),
        (Identity(kind="chat_visitor", value="v-1"), Identity(kind="chat_visitor", value="v-1")),
    ],
)
def test_normalize_identity_per_kind(given: Identity, expected: Identity | None) -> None:
    assert normalize_identity(given) == expected


def test_unique_drops_missing_and_repeated_identities_keeping_order() -> None:
    phone = Identity(kind="phone", value="+84903123456")
    email = Identity(kind="email", value="lan@example.vn")
    assert unique([phone, None, email, Identity(kind="phone", value="+84903123456")]) == (
        phone,
        email,
    )
