"""Email bodies as plain text: HTML to text, and the quoted previous email cut off.

Parsing uses libxml2's HTML parser (lxml) with a target that receives start, end and text
events: no tree is built, so the work is linear in the body and any nesting depth is
safe (a 200,000-character body takes a few milliseconds; BeautifulSoup took seconds to a
minute for nested or unclosed tags). Nothing is executed or fetched.
"""

from __future__ import annotations

import re
from typing import Any, cast

from lxml import etree

from s8_shared.contracts.inbound import MAX_HTML_CHARS

MAX_HTML_EVENTS = 20_000  # tags and texts read from one body (each is a Python call)
MAX_HTML_DEPTH = 256  # elements open at once (real mail nests a few dozen)
FEED_BYTES = 16_384

_DROPPED = frozenset(
    {"script", "style", "title", "noscript", "template", "iframe", "object", "svg"}
)
# Tags that start a new line; headings and paragraphs also leave a blank line.
_LINE_TAGS = frozenset({
    "div", "li", "tr", "dd", "dt", "ul", "ol", "dl", "table", "section", "article",
    "header", "footer", "nav", "aside", "main", "form", "address", "pre", "hr",
    "center", "figure", "figcaption", "caption", "tbody", "thead", "tfoot",
})  # fmt: skip
_PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
_CELL_TAGS = frozenset({"td", "th"})
_DROP, _BR, _LINE, _PARA, _CELL = range(5)
# What a tag does to the text; the other tags (inline) do nothing: one lookup per event.
_KIND = {
    **dict.fromkeys(_DROPPED, _DROP),
    **dict.fromkeys(_LINE_TAGS, _LINE),
    **dict.fromkeys(_PARAGRAPH_TAGS, _PARA),
    **dict.fromkeys(_CELL_TAGS, _CELL),
    "br": _BR,
}


class _Enough(Exception):
    """The text is longer than asked for: conversion stops."""


class _TextTarget:
    """Collects the visible text as lines while libxml2 reports the body's events (one
    call per tag and per text: the work in each is kept small)."""

    def __init__(self, limit: int | None) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.hidden = 0  # inside how many dropped elements (scripts, styles...)
        self.limit = limit
        self.size = 0  # characters of text collected so far (before whitespace collapses)
        self.events = 0  # tags and texts libxml2 reported: each costs a Python call
        self.depth = 0  # open elements: libxml2's work per tag grows with it
        self.cut = False

    def _end_line(self, *, keep_empty: bool) -> None:
        line = ""
        if self.current:
            line = " ".join("".join(self.current).split())  # whitespace collapsed, stripped
            self.current.clear()
        if line or keep_empty:
            self.lines.append(line)

    def _break(self, kind: int) -> None:
        if kind == _BR:  # always ends the line, even an empty one (`<br><br>` is a blank line)
            self._end_line(keep_empty=True)
        elif kind == _PARA:  # ends the line and leaves one blank line
            self._end_line(keep_empty=False)
            if self.lines and self.lines[-1]:
                self.lines.append("")
        elif kind == _LINE:  # ends the line unless it is already empty
            self._end_line(keep_empty=False)

    # With `encoding` given, libxml2 reports every tag and text as str (Any: the protocol's
    # type also allows bytes).
    def stop(self) -> None:
        self.cut = True
        raise _Enough

    def _count(self) -> None:
        self.events += 1
        if self.limit is not None and self.events > MAX_HTML_EVENTS:
            self.stop()  # a body of tens of thousands of tags: its text so far is kept

    def start(self, tag: Any, attrib: Any) -> None:
        self._count()
        self.depth += 1
        if self.limit is not None and self.depth > MAX_HTML_DEPTH:
            self.stop()  # thousands of unclosed tags: libxml2's work per tag grows with them
        kind = _KIND.get(tag)
        if kind is None:
            return
        if kind == _DROP:
            self.hidden += 1
        elif not self.hidden and (
            self.current or kind == _BR or (kind == _PARA and self.lines and self.lines[-1])
        ):  # a run of empty blocks changes nothing: checked inline, hostile bodies have many
            self._break(kind)

    def end(self, tag: Any) -> None:
        self._count()
        self.depth -= 1
        kind = _KIND.get(tag)
        if kind is None or kind == _BR:
            return
        if kind == _DROP:
            self.hidden = max(0, self.hidden - 1)
        elif not self.hidden:
            if kind == _CELL:
                self.current.append(" ")
            elif self.current or (kind == _PARA and self.lines and self.lines[-1]):
                self._break(kind)

    def data(self, data: Any) -> None:
        self._count()
        if not self.hidden:
            self.current.append(data)
            self.size += len(data)
            if self.limit is not None and self.size > self.limit:
                self.stop()  # the rest would be cut anyway

    def comment(self, text: Any) -> None:
        """Comments are not text."""

    def close(self) -> str:
        self._end_line(keep_empty=False)
        return _squeeze_blank_lines(self.lines)


def html_to_text(html: str, limit: int | None = None) -> str:
    return convert_html(html, limit)[0]


def convert_html(html: str, limit: int | None = None) -> tuple[str, bool]:
    """Readable text of an HTML body. With `limit`, conversion stops once the body has
    given more than `limit` characters of text (the text returned is then longer than
    `limit`: the caller cuts it and records the cut); a long body costs no more than that.

    Scripts, styles, the title and comments are dropped; paragraphs, block elements and
    `<br>` keep their line breaks; other whitespace collapses; entities are unescaped.
    With `limit`, conversion also stops after MAX_HTML_EVENTS tags and texts (each costs a
    Python call: 200,000 characters of `<br>` took 30 ms); the flag says it stopped early.
    """
    body = html[:MAX_HTML_CHARS]
    if not body.strip():
        return "", False
    target = _TextTarget(limit)
    parser = etree.HTMLParser(
        target=target,
        encoding="utf-8",  # the body is already text: no <meta charset> or XML declaration decides
        no_network=True,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )
    data = body.encode(errors="replace")
    try:
        # Fed in chunks: once the target has had enough, libxml2 goes on with the chunk it
        # has (it does not stop inside one), never with the rest of the body.
        for start in range(0, len(data), FEED_BYTES):
            parser.feed(data[start : start + FEED_BYTES])
            if target.cut:
                return target.close(), True
        # With a target, the parser returns what the target's close() returns.
        return cast(str, parser.close()), False
    except _Enough:
        return target.close(), True
    except etree.LxmlError:  # nothing libxml2 could read as HTML
        return (target.close(), True) if target.cut else ("", False)


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
