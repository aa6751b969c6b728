"""Search finds Vietnamese words with or without their accents."""

from __future__ import annotations

from s8_desk.domain.search import MAX_TERMS, digits, fold, query_terms, terms
from s8_desk.views import NOTHING, search_query


def test_accents_and_case_fold_to_the_same_words() -> None:
    assert fold("Hoá Đơn ĐIỆN tử") == "hoa don dien tu"
    assert query_terms("hóa đơn") == query_terms("HOA DON") == ["hoa", "don"]


def test_terms_are_distinct_and_bounded() -> None:
    assert terms(["Đơn hàng đơn hàng", None], known=["x"]) == ["x", "don", "hang"]
    assert len(terms([" ".join(f"w{i}" for i in range(5 * MAX_TERMS))])) == MAX_TERMS


def test_a_query_is_a_ticket_id_an_address_a_phone_or_words() -> None:
    assert search_query("T-6f1c2a9b0d3e4f51") == {"_id": "T-6f1c2a9b0d3e4f51"}
    assert search_query("Lan@Example.vn") == {"contacts": {"$in": ["Lan@Example.vn", "lan@example.vn"]}}  # fmt: skip
    assert search_query("+84 901 234 567")["contacts"]["$in"][1:] == [
        "0901234567", "+84901234567", "84901234567"
    ]  # fmt: skip
    assert search_query("chưa giao hàng") == {"terms": {"$all": ["chua", "giao", "hang"]}}
    assert search_query("!!!") == NOTHING


def test_a_phone_in_international_form_is_its_national_digits() -> None:
    assert digits("+84 (90) 123-4567") == "0901234567"
    assert digits("0901234567") == "0901234567"
