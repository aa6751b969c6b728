import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s8_shared.contracts import Language
from s8_shared.nlp.text import (
    contains_phrase,
    detect_language,
    fold,
    same_word,
    tokens,
    words,
    words_by_part,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Khẩn Cấp", "khan cap"),
        ("ĐƠN HÀNG ĐÃ GIAO", "don hang da giao"),
        ("Hoá đơn / Hóa đơn", "hoa don / hoa don"),
        ("  nhiều   khoảng\ttrắng \n quá ", "nhieu khoang trang qua"),
        (unicodedata.normalize("NFD", "Người dùng"), "nguoi dung"),
        ("Refund PLEASE", "refund please"),
        ("", ""),
    ],
)
def test_fold_lowercases_and_drops_diacritics(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_tokens_are_folded_words_without_punctuation() -> None:
    assert tokens("Đơn #A1023 giao chưa?!  (gấp_lắm)") == [
        "don",
        "a1023",
        "giao",
        "chua",
        "gap",
        "lam",
    ]


@pytest.mark.parametrize(
    ("written", "keyword", "same"),
    [
        ("gấp", "gấp", True),
        ("gap", "gấp", True),  # typed without accents: could be either
        ("gặp", "gấp", False),  # "meet" is not "urgent"
        ("mạng", "mang", True),  # a keyword without accents matches loosely
        ("mang", "mạng", True),
        ("hoá", "hóa", True),  # old and new tone placement
        ("đon", "đơn", True),  # partly accented
        ("don", "đơn", True),
        ("dơn", "đơn", True),
        ("sắp", "sập", False),
    ],
)
def test_a_typed_accent_must_belong_to_the_keyword(written: str, keyword: str, same: bool) -> None:
    assert same_word(words(written)[0], words(keyword)[0]) is same


@pytest.mark.parametrize(
    ("text", "phrase", "found"),
    [
        ("Tôi cần hỗ trợ khẩn cấp", "khẩn cấp", True),
        ("toi can ho tro khan cap", "khẩn cấp", True),
        ("KHẨN CẤP!!!", "khan cap", True),
        ("khẩn trương cấp bách", "khẩn cấp", False),  # words must be adjacent
        ("refunded yesterday", "refund", False),  # whole words only
        ("I want a refund.", "refund", True),
        ("", "refund", False),
    ],
)
def test_phrases_match_whole_adjacent_words(text: str, phrase: str, found: bool) -> None:
    assert contains_phrase(words(text), phrase) is found


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Đơn hàng của tôi giao chậm quá", Language.VI),
        ("Cảm ơn shop", Language.VI),
        ("Có không?", Language.VI),
        ("khong dang nhap duoc", Language.VI),
        ("minh can gap, shop oi", Language.VI),
        ("toi chua nhan duoc hang", Language.VI),
        ("ad oi don cua em giao chua", Language.VI),
        ("Where is my order?", Language.EN),
        ("I can't log in to the app since this morning", Language.EN),
        ("I ordered a café latte machine", Language.EN),
        ("I want to ban this seller, the hang time is awful", Language.EN),
        ("refund", Language.EN),
        ("", Language.EN),
        ("12345", Language.EN),
    ],
)
def test_language_is_detected_with_or_without_accents(text: str, language: Language) -> None:
    assert detect_language(text) == language


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", "ệ", "\u0301", " ", ".", ",", "\n", "-", "–", "Đ", "1", "!"]), max_size=60))  # fmt: skip
def test_words_by_part_finds_the_words_of_each_separated_part_in_one_pass(text: str) -> None:
    separators = re.compile(r"[.!?;,:\n]+|\s[-–—]\s")
    expected_words, expected_parts = [], []
    for n, part in enumerate(separators.split(text)):
        found = words(part)
        expected_words += found
        expected_parts += [n] * len(found)
    assert words_by_part(text, separators) == (expected_words, expected_parts)
