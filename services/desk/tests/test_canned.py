"""Canned replies' placeholders: known names filled in, unknown ones refused when saved."""

from __future__ import annotations

import pytest

from s8_desk.domain.canned import UnknownPlaceholder, check, render


def test_placeholders_are_filled_in_and_a_missing_value_leaves_nothing() -> None:
    text = "Chào {{customer_name}}, về {{ ticket_id }}: {{agent_name}} đang xử lý. {{subject}}"
    values = {"customer_name": "Lan", "ticket_id": "T-1", "agent_name": "Minh", "subject": None}
    assert render(text, values) == "Chào Lan, về T-1: Minh đang xử lý. "


def test_a_text_naming_an_unknown_placeholder_is_refused() -> None:
    check("Chào {{customer_name}}")
    with pytest.raises(UnknownPlaceholder, match="unknown placeholder password"):
        check("{{password}}")


def test_braces_that_are_not_a_placeholder_stay_as_they_are() -> None:
    assert render("{x} {{ 1 }} {{customer.__class__}}", {}) == "{x} {{ 1 }} {{customer.__class__}}"
