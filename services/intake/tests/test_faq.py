from pathlib import Path

import pytest

from s8_intake.adapters.data_files import DEFAULT_ARTICLES_PATH, load_articles
from s8_intake.domain.faq import match
from s8_intake.domain.model import KbArticle
from s8_shared.contracts import Language

ARTICLES = load_articles(DEFAULT_ARTICLES_PATH)
SERVICE_THRESHOLD = 0.72  # what the intake service runs with


def test_the_shipped_articles_load_in_both_languages() -> None:
    assert len(ARTICLES) >= 12
    assert {a.language for a in ARTICLES} == {Language.VI, Language.EN}
    assert len({a.article_id for a in ARTICLES}) == len(ARTICLES)
    assert all(a.questions and a.keywords and a.body for a in ARTICLES)


@pytest.mark.parametrize(
    ("text", "language", "article_id"),
    [
        ("Làm sao để đổi mật khẩu tài khoản của tôi?", Language.VI, "vi-doi-mat-khau"),
        ("lam sao doi mat khau", Language.VI, "vi-doi-mat-khau"),  # no accents
        ("Tôi quên mật khẩu rồi, làm sao lấy lại?", Language.VI, "vi-doi-mat-khau"),
        ("Đơn hàng của mình đang ở đâu vậy shop?", Language.VI, "vi-theo-doi-don-hang"),
        ("don hang cua toi dang o dau", Language.VI, "vi-theo-doi-don-hang"),
        ("Phí ship về Đà Nẵng bao nhiêu?", Language.VI, "vi-phi-van-chuyen"),
        ("Shop làm việc đến mấy giờ?", Language.VI, "vi-gio-lam-viec"),
        ("Bao lâu thì được hoàn tiền ạ?", Language.VI, "vi-thoi-gian-hoan-tien"),
        ("chinh sach doi tra the nao", Language.VI, "vi-chinh-sach-doi-tra"),
        ("Có trả góp không shop?", Language.VI, "vi-phuong-thuc-thanh-toan"),
        ("Làm sao kích hoạt bảo hành máy lọc nước?", Language.VI, "vi-kich-hoat-bao-hanh"),
        ("How do I reset my password?", Language.EN, "en-reset-password"),
        ("where is my order??", Language.EN, "en-track-order"),
        ("What are your opening hours?", Language.EN, "en-opening-hours"),
        ("how long does a refund take", Language.EN, "en-refund-timeline"),
        ("Can I pay by credit card?", Language.EN, "en-payment-methods"),
    ],
)
def test_a_common_question_matches_its_article_confidently(
    text: str, language: Language, article_id: str
) -> None:
    found = match(text, ARTICLES, language, threshold=SERVICE_THRESHOLD)
    assert found is not None
    assert found.article_id == article_id
    assert SERVICE_THRESHOLD <= found.score <= 1.0


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Nhân viên giao hàng thái độ rất tệ, tôi muốn khiếu nại", Language.VI),
        ("Tôi bị trừ tiền hai lần cho một đơn hàng", Language.VI),
        ("Máy lọc nước bị rò nước, cần kỹ thuật viên đến kiểm tra.", Language.VI),
        (
            "Chào shop, tuần trước tôi đặt một máy lọc nước, giao chậm 5 ngày, khi nhận thì hộp bị"
            " móp, máy chạy được hai hôm thì rò nước, tôi gọi tổng đài mãi không ai nghe, giờ tôi"
            " muốn trả hàng và hoàn tiền, còn phí vận chuyển thì ai chịu?",
            Language.VI,
        ),
        (
            "Tôi muốn đổi mật khẩu, và cho hỏi phí vận chuyển về Cần Thơ, và đơn hàng của tôi đang ở đâu?",
            Language.VI,
        ),
        ("Your courier was rude and my parcel arrived damaged, I want compensation", Language.EN),
        ("I was charged twice for order A1023", Language.EN),
        (
            "Hi, I ordered a blender two weeks ago, it arrived late, the box was damaged, it stopped"
            " working after two days and nobody answers the phone, I want a refund and to know who"
            " pays shipping",
            Language.EN,
        ),
        ("", Language.VI),
        ("???", Language.EN),
    ],
)
def test_complaints_rambling_and_several_issues_do_not_match(text: str, language: Language) -> None:
    assert match(text, ARTICLES, language) is None  # not even at the lenient default 0.6


def test_the_threshold_is_respected() -> None:
    text = "Phí ship về Đà Nẵng bao nhiêu?"
    found = match(text, ARTICLES, Language.VI, threshold=0.0)
    assert found is not None
    assert 0 < found.score < 1
    assert match(text, ARTICLES, Language.VI, threshold=found.score) == found
    assert match(text, ARTICLES, Language.VI, threshold=found.score + 0.001) is None


def test_an_accent_free_question_matches_an_accented_article() -> None:
    article = KbArticle(
        article_id="vi-huy-don",
        language=Language.VI,
        title="Hủy đơn hàng",
        body="Quý khách hủy đơn tại mục Đơn hàng của tôi trước khi đơn được giao cho đơn vị vận chuyển.",
        keywords=("hủy đơn",),
        questions=("Làm thế nào để hủy đơn hàng?",),
    )
    accented = match("Làm thế nào để hủy đơn hàng?", [article], Language.VI)
    plain = match("lam the nao de huy don hang", [article], Language.VI)
    assert accented is not None
    assert plain is not None
    assert plain.score == accented.score


def test_articles_of_the_customers_language_come_first_with_a_fallback() -> None:
    assert match("How do I reset my password?", ARTICLES, Language.VI) is None
    english_only = [a for a in ARTICLES if a.language == Language.EN]
    found = match("How do I reset my password?", english_only, Language.VI)
    assert found is not None
    assert found.article_id == "en-reset-password"


def test_matching_is_deterministic_and_ties_go_to_the_first_article() -> None:
    twin = KbArticle(
        article_id="vi-doi-mat-khau-copy",
        language=Language.VI,
        title="Cách đổi hoặc lấy lại mật khẩu",
        body="…",
        keywords=("mật khẩu",),
        questions=("Làm sao để đổi mật khẩu tài khoản?",),
    )
    original = next(a for a in ARTICLES if a.article_id == "vi-doi-mat-khau")
    text = "Làm sao để đổi mật khẩu tài khoản?"
    first = match(text, [original, twin], Language.VI)
    assert first == match(text, [original, twin], Language.VI)
    assert first is not None
    assert first.article_id == "vi-doi-mat-khau"


@pytest.mark.parametrize(
    ("articles_yaml", "expected"),
    [
        ("version: 1\narticles:\n  - {id: a, language: vi, title: T, body: B}\n", r"questions"),
        (
            "version: 1\narticles:\n  - {id: a, language: fr, title: T, body: B, questions: [q]}\n",
            r"language",
        ),
        (
            "version: 1\narticles:\n  - {id: a, language: vi, title: T, body: B, questions: [q]}\n"
            "  - {id: a, language: en, title: T, body: B, questions: [q]}\n",
            r"duplicate article ids: \['a'\]",
        ),
    ],
)
def test_a_bad_articles_file_is_refused(tmp_path: Path, articles_yaml: str, expected: str) -> None:
    path = tmp_path / "kb.yaml"
    path.write_text(articles_yaml, encoding="utf-8")
    with pytest.raises(ValueError, match=expected):
        load_articles(path)
