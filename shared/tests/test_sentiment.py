from pathlib import Path

import pytest

from s8_shared.contracts import Language
from s8_shared.data_files import load_model
from s8_shared.nlp.sentiment import DEFAULT_LEXICON_PATH, MAX_WORDS, Lexicon, score

LEXICON = load_model(DEFAULT_LEXICON_PATH, Lexicon)


def test_the_shipped_lexicon_loads_with_enough_terms_in_both_languages() -> None:
    assert len(LEXICON.terms[Language.VI]) >= 60
    assert len(LEXICON.terms[Language.EN]) >= 60
    assert LEXICON.negative_threshold == -0.35


@pytest.mark.parametrize(
    ("text", "negative", "matched"),
    [
        ("Dịch vụ quá tệ, gọi tổng đài mãi không ai nghe!", True, ("qua te", "mãi không")),
        ("dich vu qua te", True, ("qua te",)),
        ("Tôi rất thất vọng về cách phục vụ", True, ("thất vọng",)),
        ("toi rat that vong", True, ("thất vọng",)),
        ("Bực mình thật sự, hàng kém chất lượng", True, ("bực mình", "kém chất lượng")),
        ("Shop lừa đảo", True, ("lừa đảo",)),
        ("Tôi không hài lòng với cách xử lý", True, ("không hài lòng",)),
        (
            "Nhân viên thô lỗ, tôi sẽ không bao giờ quay lại",
            True,
            ("thô lỗ", "không bao giờ quay lại"),
        ),
        ("This is the worst service ever", True, ("worst",)),
        (
            "I am very disappointed, still waiting for my refund",
            True,
            ("disappointed", "still waiting"),
        ),
        ("Cảm ơn shop, giao hàng nhanh, rất hài lòng", False, ("cảm ơn", "nhanh", "rất hài lòng")),
        ("Great support, thank you!", False, ("great", "thank you")),
        ("Làm sao để đổi mật khẩu tài khoản của tôi?", False, ()),
        ("toi muon hoi ve hoa don thang nay", False, ()),  # "toi" is "tôi", not "tồi"
        ("I left it on the table", False, ()),  # "on" is not "ổn"
        ("Chăm sóc khách hàng", False, ()),  # "chăm" is not "chậm"
    ],
)
def test_terms_with_and_without_accents(
    text: str, negative: bool, matched: tuple[str, ...]
) -> None:
    result = score(text, LEXICON)
    assert (result.negative, result.matched) == (negative, matched)
    assert -1.0 <= result.score <= 1.0


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Sản phẩm không tốt", "không tốt"),
        ("san pham khong tot", "không tốt"),
        ("Tôi chẳng hài lòng chút nào", "chẳng hài lòng"),
        ("Nhân viên chưa nhiệt tình", "chưa nhiệt tình"),
        ("ko ổn chút nào", "ko ổn"),
        ("The product is not good", "not good"),
        ("The app never works", "never works"),
        ("It doesn't work at all", "doesn't work"),
        ("The staff were not very helpful", "not helpful"),
    ],
)
def test_a_negated_positive_is_negative(text: str, matched: str) -> None:
    result = score(text, LEXICON)
    assert result.matched == (matched,)
    assert result.negative, result


@pytest.mark.parametrize("text", ["Không tệ lắm", "hàng không tệ", "Not bad at all"])
def test_a_negated_negative_is_mildly_positive(text: str) -> None:
    result = score(text, LEXICON)
    assert 0 < result.score < 0.5
    assert not result.negative


@pytest.mark.parametrize(
    ("plain", "stronger"),
    [
        ("Hàng tệ", "Hàng rất tệ"),
        ("Giao hàng chậm", "Giao hàng chậm quá"),
        ("Nhân viên tốt", "Nhân viên tốt lắm"),
        ("The delivery was slow", "The delivery was extremely slow"),
        ("Dịch vụ tệ", "Dịch vụ tệ!!!"),
        ("This is bad", "This is BAD"),
        ("Tôi rất hài lòng", "Tôi rất hài lòng!"),
    ],
)
def test_intensifiers_exclamations_and_caps_raise_the_magnitude(plain: str, stronger: str) -> None:
    assert abs(score(stronger, LEXICON).score) > abs(score(plain, LEXICON).score) > 0


def test_a_negated_intensified_term_is_not_amplified() -> None:
    assert score("không tốt lắm", LEXICON).score == score("không tốt", LEXICON).score


def test_what_follows_but_counts_more() -> None:
    result = score("Giao hàng nhanh nhưng nhân viên thô lỗ", LEXICON)
    assert result.negative
    assert result.matched == ("nhanh", "thô lỗ")
    assert not score("Nhân viên hơi chậm nhưng rất nhiệt tình", LEXICON).negative


def test_no_terms_means_neutral() -> None:
    result = score("Mã đơn của tôi là A1023", LEXICON)
    assert (result.score, result.negative, result.matched) == (0.0, False, ())


def test_the_threshold_decides_negative() -> None:
    mild = score("Giao hàng chậm", LEXICON)  # a fact, not yet a complaint
    assert -0.35 < mild.score < 0
    assert not mild.negative


@pytest.mark.parametrize(
    ("lexicon_yaml", "expected"),
    [
        ("version: 1\nterms: {vi: {tệ: -5}}\n", r"'tệ'.*not in -3..3"),
        ("version: 1\nterms: {vi: {tệ: -2}, en: {tệ: -2}}\n", r"repeats"),
        ("version: 1\nterms: {fr: {mal: -2}}\n", r"terms.fr"),
        (
            "version: 1\nterms: {en: {bad: -2}}\nafter_intensifiers: [quá]\n",
            r"not among intensifiers",
        ),
    ],
)
def test_a_bad_lexicon_is_refused(tmp_path: Path, lexicon_yaml: str, expected: str) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text(lexicon_yaml, encoding="utf-8")
    with pytest.raises(ValueError, match=expected):
        load_model(path, Lexicon)


def test_a_lexicon_can_be_built_in_code() -> None:
    lexicon = Lexicon(version=1, negators=("không",), terms={Language.VI: {"tốt": 2}})
    assert score("không tốt", lexicon).negative
    assert score("tốt", lexicon).score > 0.35


def test_only_the_first_two_thousand_words_count() -> None:
    lexicon = load_model(DEFAULT_LEXICON_PATH, Lexicon)
    calm = "bàn " * MAX_WORDS
    assert score(calm + "lừa đảo quá tệ " * 50, lexicon).score == 0.0
    assert score("lừa đảo quá tệ " + calm, lexicon).negative
