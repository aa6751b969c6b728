"""Email bodies as plain text: HTML to text, and the quoted previous email cut off.

Parsing uses BeautifulSoup's built-in "html.parser": nothing is executed or fetched.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from s8_shared.contracts.inbound import MAX_HTML_CHARS

_DROPPED = ("script", "style", "title", "noscript", "template", "iframe", "object", "svg")
# Tags that start a new line; headings and paragraphs also leave a blank line.
_LINE_TAGS = (
    "div", "li", "tr", "dd", "dt", "ul", "ol", "dl", "table", "section", "article",
    "header", "footer", "nav", "aside", "main", "form", "address", "pre", "hr",
    "center", "figure", "figcaption", "caption", "tbody", "thead", "tfoot",
)  # fmt: skip
_PARAGRAPH_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote")
_CELL_TAGS = ("td", "th")
_WHITESPACE = re.compile(r"\s+")


class _Break(NavigableString):
    """A line-break marker placed in the tree; the value says which kind."""


_HARD = "br"  # always ends the line, even an empty one (`<br><br>` is a blank line)
_SOFT = "line"  # ends the line unless it is already empty
_PARA = "para"  # ends the line and leaves one blank line


def html_to_text(html: str) -> str:
    """Readable text of an HTML body (normalization cuts it to MAX_TEXT_CHARS and records it).

    Scripts, styles, the head and comments are dropped; paragraphs, block elements and
    `<br>` keep their line breaks; other whitespace collapses; entities are unescaped.
    """
    soup = BeautifulSoup(html[:MAX_HTML_CHARS], "html.parser")
    for head in soup.find_all("head"):
        # html.parser does not close an unclosed <head>, so the body may sit inside it.
        if head.find("body") is not None:
            head.unwrap()
        else:
            head.decompose()
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with(_Break(_HARD))
    _mark(soup, _LINE_TAGS, _SOFT)
    _mark(soup, _PARAGRAPH_TAGS, _PARA)
    for cell in soup.find_all(_CELL_TAGS):
        cell.append(NavigableString(" "))
    return _render(soup)


def _mark(soup: BeautifulSoup, names: tuple[str, ...], kind: str) -> None:
    for tag in soup.find_all(names):
        tag.insert_before(_Break(kind))
        tag.append(_Break(kind))


def _render(soup: BeautifulSoup) -> str:
    lines: list[str] = []
    current: list[str] = []

    def end_line(*, keep_empty: bool) -> None:
        line = _WHITESPACE.sub(" ", "".join(current)).strip()
        current.clear()
        if line or keep_empty:
            lines.append(line)

    # `descendants` walks the tree without recursion, so deeply nested HTML is safe.
    for node in soup.descendants:
        if isinstance(node, Tag):
            continue
        if isinstance(node, _Break):
            if str(node) == _HARD:
                end_line(keep_empty=True)
            else:
                end_line(keep_empty=False)
                if str(node) == _PARA and lines and lines[-1]:
                    lines.append("")
        elif type(node) is NavigableString:  # not comments, doctypes, CDATA...
            current.append(str(node))
    end_line(keep_empty=False)
    return _squeeze_blank_lines(lines)


def _squeeze_blank_lines(lines: list[str]) -> str:
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


# --- quoted replies -------------------------------------------------------------------

# Headers mail clients put above the quoted email. Gmail may wrap the attribution line,
# so the "On ... wrote:" forms are matched on up to three joined lines.
_ATTRIBUTION_START = re.compile(r"^\s*(On|Vào|Le|Am)\s", re.IGNORECASE)
_ATTRIBUTION = re.compile(
    r"^\s*(On\s.*\swrote|Vào\s.*\sđã viết|Le\s.*\sa écrit|Am\s.*\sschrieb)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Thư gốc|Tin nhắn gốc)\s*-{2,}"
    r"|_{10,}"  # Outlook's rule above a quoted message
    r"|(From|Từ)\s*:.*\s(Sent|Date|Đã gửi|Ngày)\s*:.*)\s*$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"^\s*\*?(From|Từ)\s*:\s*\S", re.IGNORECASE)
_SENT_LINE = re.compile(r"^\s*\*?(Sent|Date|Đã gửi|Ngày)\s*:\s*\S", re.IGNORECASE)
_DIGIT = re.compile(r"\d")


def strip_quoted_reply(text: str) -> str:
    """The new part of a reply: the quoted previous email and `>` lines removed.

    If nothing would be left, the original text is returned unchanged.
    """
    lines = text.splitlines()
    cut = _quote_start(lines)
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    result = "\n".join(kept).strip()
    return result or text


def _quote_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line):
            return i
        if _FROM_LINE.match(line) and any(_SENT_LINE.match(n) for n in lines[i + 1 : i + 5]):
            return i
        if _ATTRIBUTION_START.match(line):
            for end in range(i + 1, min(i + 3, len(lines)) + 1):
                joined = " ".join(lines[i:end])
                # Real attributions carry a date; "On Monday the agent wrote:" does not.
                if _ATTRIBUTION.match(joined) and _DIGIT.search(joined):
                    return i
    return len(lines)
