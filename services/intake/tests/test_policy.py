from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from s8_intake.adapters.data_files import DEFAULT_POLICY_PATH, load_policy
from s8_intake.domain.policy import (
    Promise,
    acknowledgement_text,
    acknowledges,
    promise,
    promise_in_words,
)
from s8_shared.contracts import Channel, Language, Priority

POLICY = load_policy(DEFAULT_POLICY_PATH)
TICKET = "T-0f3a9c1b2d4e5f60"


@pytest.mark.parametrize(
    ("channel", "priority", "expected", "business"),
    [
        (Channel.LIVE_CHAT, Priority.NORMAL, timedelta(minutes=5), False),
        (Channel.LIVE_CHAT, Priority.URGENT, timedelta(minutes=2), False),
        (Channel.CHATBOT, Priority.NORMAL, timedelta(minutes=5), False),
        (Channel.EMAIL, Priority.NORMAL, timedelta(hours=4), True),
        (Channel.EMAIL, Priority.URGENT, timedelta(hours=1), False),
        (Channel.WEB_FORM, Priority.LOW, timedelta(hours=8), True),
        (Channel.PHONE, Priority.NORMAL, timedelta(0), False),
        (Channel.SOCIAL, Priority.HIGH, timedelta(hours=1), False),
    ],
)
def test_the_published_promises(
    channel: Channel, priority: Priority, expected: timedelta, business: bool
) -> None:
    promised = promise(POLICY, channel, priority)
    assert (promised, promised.business) == (expected, business)


@pytest.mark.parametrize("channel", list(Channel))
def test_urgent_is_never_looser_than_normal(channel: Channel) -> None:
    urgent, normal = (promise(POLICY, channel, p) for p in (Priority.URGENT, Priority.NORMAL))
    assert urgent <= normal


@pytest.mark.parametrize(
    ("channel", "acknowledged"), [(c, c in {Channel.EMAIL, Channel.WEB_FORM}) for c in Channel]
)
def test_only_email_and_web_forms_get_an_acknowledgement(
    channel: Channel, acknowledged: bool
) -> None:
    assert acknowledges(POLICY, channel) is acknowledged


@pytest.mark.parametrize(
    ("delay", "vi", "en"),
    [
        (Promise(240, business=True), "trong vòng 4 giờ làm việc", "within 4 business hours"),
        (Promise(60, business=True), "trong vòng 1 giờ làm việc", "within 1 business hour"),
        (Promise(480, business=True), "trong vòng 1 ngày làm việc", "within 1 business day"),
        (Promise(60), "trong vòng 1 giờ", "within 1 hour"),
        (timedelta(minutes=5), "trong vòng 5 phút", "within 5 minutes"),
        (timedelta(minutes=90), "trong vòng 1 giờ 30 phút", "within 1 hour and 30 minutes"),
        (timedelta(days=2), "trong vòng 2 ngày", "within 2 days"),
        (timedelta(0), "ngay lập tức", "right away"),
    ],
)
def test_the_promise_in_words(delay: timedelta, vi: str, en: str) -> None:
    assert promise_in_words(POLICY, Language.VI, delay) == vi
    assert promise_in_words(POLICY, Language.EN, delay) == en


@pytest.mark.parametrize(
    ("language", "subject_words", "promise_words"),
    [
        (Language.VI, "đã tiếp nhận yêu cầu", "trong vòng 4 giờ làm việc"),
        (Language.EN, "We have received your request", "within 4 business hours"),
    ],
)
def test_the_acknowledgement_carries_the_ticket_token_and_the_promise(
    language: Language, subject_words: str, promise_words: str
) -> None:
    subject, text = acknowledgement_text(
        POLICY, language, TICKET, promise(POLICY, Channel.EMAIL, Priority.NORMAL)
    )
    assert subject.startswith(f"[#{TICKET}]")
    assert subject_words in subject
    assert f"[#{TICKET}]" in text
    assert promise_words in text
    assert "{" not in subject + text


def valid_policy() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    return raw


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p["promises"].pop("sms"), r"no promises for channels \['sms'\]"),
        (lambda p: p["promises"]["email"].pop("low"), r"email: no promise for \['low'\]"),
        (
            lambda p: p["promises"]["email"].update(urgent={"minutes": 600}),
            r"email: urgent must be the tightest",
        ),
        (
            lambda p: p["acknowledgement"]["templates"]["en"].update(subject="Ticket {ticket}"),
            r"unknown placeholders \['ticket'\]",
        ),
        (
            lambda p: p["acknowledgement"]["templates"]["vi"].update(
                subject="Đã nhận", body="Cảm ơn, chúng tôi trả lời {promise}."
            ),
            r"ticket token",
        ),
        (lambda p: p["acknowledgement"]["wording"].pop("vi"), r"no wording in 'vi'"),
        (lambda p: p["acknowledgement"].update(channels=["fax"]), r"channels"),
    ],
)
def test_a_bad_policy_is_refused(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], expected: str
) -> None:
    raw = valid_policy()
    change(raw)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=expected):
        load_policy(path)
