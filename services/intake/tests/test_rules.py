from pathlib import Path
from typing import Any

import pytest
import yaml

from s8_intake.adapters.data_files import DEFAULT_RULES_PATH, load_rules
from s8_intake.domain.model import Classification
from s8_intake.domain.rules import RuleSet, classify, parse_rules
from s8_shared.contracts import Channel, CustomerTier, Language, Priority

SHIPPED = load_rules(DEFAULT_RULES_PATH)


def classify_message(text: str, rules: RuleSet = SHIPPED, **overrides: Any) -> Classification:
    message: dict[str, Any] = {
        "subject": None,
        "channel": Channel.EMAIL,
        "ivr_path": None,
        "customer_tier": CustomerTier.STANDARD,
        "customer_category": None,
    }
    return classify(rules, text=text, **(message | overrides))


def test_the_shipped_rules_load_and_cover_every_category() -> None:
    categories = {r.then.category for r in SHIPPED.rules if r.then.category}
    assert categories >= {"billing", "technical", "shipping", "warranty", "sales", "account"}
    assert SHIPPED.defaults.priority == Priority.NORMAL


@pytest.mark.parametrize(
    ("text", "category", "by"),
    [
        ("Tôi bị trừ tiền hai lần cho một đơn hàng", "billing", "kw-billing"),
        ("toi bi tru tien hai lan", "billing", "kw-billing"),
        ("Cho tôi xin hóa đơn đỏ cho đơn A1023", "billing", "kw-billing"),
        ("I was charged twice for order A1023", "billing", "kw-billing"),
        ("Tôi không đăng nhập được vào ứng dụng", "technical", "kw-technical"),
        ("khong dang nhap duoc app", "technical", "kw-technical"),
        ("The app crashes every time I open it", "technical", "kw-technical"),
        ("Website bị sập từ sáng", "technical", "kw-technical-outage"),
        ("Đơn hàng A1023 của tôi giao chậm quá", "shipping", "kw-shipping"),
        ("Shop ơi, đơn của mình giao chưa vậy?", "shipping", "kw-shipping"),
        ("Where is my order? Tracking has not moved", "shipping", "kw-shipping"),
        ("Máy lọc nước còn bảo hành không?", "warranty", "kw-warranty"),
        ("may loc nuoc het bao hanh chua", "warranty", "kw-warranty"),
        ("The blender is broken, I want a repair", "warranty", "kw-warranty"),
        ("Cho mình xin báo giá 50 máy lọc nước", "sales", "kw-sales"),
        ("Is there a discount for bulk orders?", "sales", "kw-sales"),
        ("Làm sao để đổi mật khẩu tài khoản?", "account", "kw-account"),
        ("Xin chào, cho tôi hỏi thăm một chút", "general", "default"),
        ("Xin lỗi đã làm phiền shop", "general", "default"),  # "xin lỗi" is not an error
    ],
)
def test_the_category_comes_from_the_words(text: str, category: str, by: str) -> None:
    result = classify_message(text)
    assert (result.category, result.explanations["category"]) == (category, by)


@pytest.mark.parametrize(
    ("text", "priority", "by"),
    [
        ("Cần xử lý khẩn cấp, hệ thống thanh toán lỗi", Priority.URGENT, "urgent-words"),
        ("can xu ly khan cap", Priority.URGENT, "urgent-words"),
        ("Gọi lại cho tôi gấp.", Priority.URGENT, "urgent-words"),
        ("Tôi gặp lỗi khi thanh toán", Priority.NORMAL, "default"),  # gặp ≠ gấp
        ("he thong bi sap roi", Priority.URGENT, "urgent-words"),
        ("Đơn hàng sắp giao chưa shop?", Priority.NORMAL, "default"),  # sắp ≠ sập
        ("Tôi nghi bị lừa đảo, mất tiền trong tài khoản", Priority.URGENT, "urgent-words"),
        ("URGENT: your site is down", Priority.URGENT, "urgent-words"),
        ("Khi nào tôi được hoàn tiền?", Priority.HIGH, "refund-high"),
        ("I want a refund for my order", Priority.HIGH, "refund-high"),
        ("Cho hỏi giá bao nhiêu", Priority.NORMAL, "default"),
    ],
)
def test_urgency_words_raise_priority(text: str, priority: Priority, by: str) -> None:
    result = classify_message(text)
    assert (result.priority, result.explanations["priority"]) == (priority, by)


def test_urgent_tickets_need_a_senior_tier() -> None:
    result = classify_message("Hoàn tiền gấp, tôi bị trừ tiền hai lần!")
    assert (result.priority, result.tier_required) == (Priority.URGENT, "L2")
    assert result.explanations["tier_required"] == "urgent-senior-tier"


def test_a_vip_gets_at_least_high_and_a_senior_tier() -> None:
    result = classify_message("Cho tôi hỏi về hóa đơn tháng này", customer_tier=CustomerTier.VIP)
    assert (result.category, result.priority, result.tier_required) == (
        "billing",
        Priority.HIGH,
        "L2",
    )
    assert result.explanations == {
        "category": "kw-billing",
        "team": "kw-billing",
        "tier_required": "vip-customer",
        "priority": "vip-customer",
        "skills": "kw-billing",
        "language": "detected",
    }


def test_a_vip_with_an_urgent_problem_stays_urgent() -> None:
    result = classify_message("Khẩn cấp: app sập", customer_tier=CustomerTier.VIP)
    assert (result.priority, result.explanations["priority"]) == (Priority.URGENT, "urgent-words")
    assert result.tier_required == "L2"


def test_a_standard_customer_with_a_plain_question_gets_the_defaults() -> None:
    result = classify_message("Cho tôi hỏi thăm")
    assert (result.priority, result.tier_required, result.team) == (
        Priority.NORMAL,
        "L1",
        "customer_care",
    )
    assert result.required_skills == ()
    assert result.explanations["skills"] == "default"


@pytest.mark.parametrize(
    ("channel", "ivr_path", "form_category", "category", "team", "by"),
    [
        (Channel.PHONE, "1", None, "technical", "technical_support", "ivr-1-technical"),
        (Channel.PHONE, "2", None, "billing", "billing", "ivr-2-billing"),
        (Channel.PHONE, "3", None, "shipping", "orders_and_sales", "ivr-3-orders"),
        (Channel.PHONE, "3-1", None, "warranty", "warranty_service", "ivr-3-1-warranty"),
        (Channel.PHONE, "3-2", None, "shipping", "orders_and_sales", "ivr-3-orders"),
        (Channel.PHONE, "31", None, "general", "customer_care", "default"),  # not under "3"
        (Channel.WEB_FORM, None, "technical", "technical", "technical_support", "form-technical"),
        (Channel.WEB_FORM, None, "Thanh toán", "billing", "billing", "form-billing"),
        (Channel.WEB_FORM, None, "bao-hanh", "warranty", "warranty_service", "form-warranty"),
        (Channel.WEB_FORM, None, "something else", "general", "customer_care", "default"),
    ],
)
def test_what_the_customer_chose_decides_the_category(
    channel: Channel,
    ivr_path: str | None,
    form_category: str | None,
    category: str,
    team: str,
    by: str,
) -> None:
    result = classify_message(
        "Xin chào, tôi cần được tư vấn",
        channel=channel,
        ivr_path=ivr_path,
        customer_category=form_category,
    )
    assert (result.category, result.team, result.explanations["category"]) == (category, team, by)


def test_the_menu_choice_wins_over_the_words() -> None:
    result = classify_message("Tôi muốn hỏi về phí giao hàng", channel=Channel.PHONE, ivr_path="2")
    assert result.category == "billing"
    assert result.required_skills == ("billing", "shipping")  # skills still accumulate
    assert result.explanations["skills"] == "ivr-2-billing,kw-shipping"


def test_an_on_site_visit_needs_a_field_technician_even_for_a_vip() -> None:
    result = classify_message(
        "Máy lọc nước bị rò nước, cần kỹ thuật viên đến kiểm tra.",
        channel=Channel.ON_SITE,
        customer_tier=CustomerTier.VIP,
    )
    assert (result.category, result.team, result.tier_required) == (
        "warranty",
        "field_service",
        "field",
    )
    assert "field_service" in result.required_skills
    assert result.priority == Priority.HIGH


def test_negative_sentiment_raises_priority() -> None:
    calm = classify_message("Đơn hàng giao chậm", negative_sentiment=False)
    angry = classify_message("Đơn hàng giao chậm", negative_sentiment=True)
    assert (calm.priority, angry.priority) == (Priority.NORMAL, Priority.HIGH)
    assert angry.explanations["priority"] == "negative-sentiment-high"


def test_the_subject_counts_too() -> None:
    result = classify_message("Xem giúp mình với", subject="Hoàn tiền đơn #A1023")
    assert (result.category, result.priority) == ("billing", Priority.HIGH)


@pytest.mark.parametrize(
    ("text", "hint", "language", "by"),
    [
        ("Đơn hàng của tôi giao chưa?", None, Language.VI, "detected"),
        ("don hang cua toi giao chua", None, Language.VI, "detected"),
        ("Where is my order?", None, Language.EN, "detected"),
        ("Where is my order?", Language.VI, Language.VI, "hint"),
    ],
)
def test_the_language_is_the_hint_or_detected(
    text: str, hint: Language | None, language: Language, by: str
) -> None:
    result = classify_message(text, language_hint=hint)
    assert (result.language, result.explanations["language"]) == (language, by)


def tiny_rules(*rules: dict[str, Any], default_priority: str = "normal") -> RuleSet:
    return parse_rules(
        {"version": 1, "defaults": {"priority": default_priority}, "rules": list(rules)}
    )


def test_a_rule_can_only_raise_priority() -> None:
    rules = tiny_rules(
        {"id": "same", "when": {"keywords": ["hóa đơn"]}, "set": {"priority": "high"}},
        {"id": "higher", "when": {"keywords": ["khẩn cấp"]}, "set": {"priority": "urgent"}},
        default_priority="high",
    )
    assert classify_message("hóa đơn", rules).explanations["priority"] == "default"
    both = classify_message("hóa đơn khẩn cấp", rules)
    assert (both.priority, both.explanations["priority"]) == (Priority.URGENT, "higher")
    with pytest.raises(ValueError, match=r"rule 'lower'.*only raise priority"):
        tiny_rules(
            {"id": "lower", "when": {"keywords": ["hỏi"]}, "set": {"priority": "low"}},
            default_priority="normal",
        )


def test_first_rule_wins_for_category_and_all_add_skills() -> None:
    rules = tiny_rules(
        {
            "id": "a",
            "when": {"keywords": ["refund"]},
            "set": {"category": "billing", "skills": ["billing"]},
        },
        {
            "id": "b",
            "when": {"keywords": ["order"]},
            "set": {"category": "shipping", "skills": ["shipping"]},
        },
        {"id": "c", "when": {"keywords": ["order"]}, "set": {"skills": ["billing"]}},
    )
    result = classify_message("refund for my order", rules)
    assert (result.category, result.required_skills) == ("billing", ("billing", "shipping"))
    assert result.explanations["skills"] == "a,b"
    assert result.category is not None
    assert result.team is None


@pytest.mark.parametrize(
    ("rules_yaml", "expected"),
    [
        (
            "version: 1\nrules:\n  - id: typo\n    when: {keyword: [x]}\n    set: {category: a}\n",
            r"rule 'typo' \(#1\): when.keyword: Extra inputs",
        ),
        (
            "version: 1\nrules:\n  - id: ok\n    when: {keywords: [x]}\n    set: {category: a}\n"
            "  - id: bad-priority\n    when: {keywords: [y]}\n    set: {priority: critical}\n",
            r"rule 'bad-priority' \(#2\): set.priority",
        ),
        (
            "version: 1\nrules:\n  - id: empty-when\n    when: {}\n    set: {category: a}\n",
            r"rule 'empty-when' \(#1\).*no conditions",
        ),
        (
            "version: 1\nrules:\n  - id: nothing\n    when: {keywords: [x]}\n    set: {}\n",
            r"rule 'nothing' \(#1\).*sets nothing",
        ),
        (
            "version: 1\nrules:\n  - id: loop\n    when: {priority: [urgent]}\n    set: {priority: high}\n",
            r"rule 'loop' \(#1\).*may not set priority",
        ),
        (
            "version: 1\nrules:\n  - id: twice\n    when: {keywords: [x]}\n    set: {category: a}\n"
            "  - id: twice\n    when: {keywords: [y]}\n    set: {category: b}\n",
            r"rule 'twice': duplicate rule id",
        ),
        (
            "version: 1\nrules:\n  - when: {keywords: [x]}\n    set: {category: a}\n",
            r"rule #1: id: Field required",
        ),
        ("version: 1\nrules: [\n", r"not valid YAML"),
    ],
)
def test_a_bad_rules_file_names_the_rule(tmp_path: Path, rules_yaml: str, expected: str) -> None:
    path = tmp_path / "classification.yaml"
    path.write_text(rules_yaml, encoding="utf-8")
    with pytest.raises(ValueError, match=expected):
        load_rules(path)


def test_the_shipped_rules_survive_a_yaml_round_trip() -> None:
    raw = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    assert parse_rules(raw) == SHIPPED
    assert len({r.id for r in SHIPPED.rules}) == len(SHIPPED.rules)


@pytest.mark.parametrize("outcome", ["missed", "abandoned"])
def test_a_missed_or_abandoned_call_is_a_high_priority_callback(outcome: str) -> None:
    result = classify_message(
        "Cuộc gọi nhỡ từ +84903123456", channel=Channel.PHONE, call_outcome=outcome
    )
    assert result.callback is True
    assert result.priority == Priority.HIGH
    assert result.explanations["callback"] == "missed-call-callback"
    assert result.explanations["priority"] == "missed-call-callback"


def test_an_answered_call_is_no_callback() -> None:
    result = classify_message("Khách hỏi giá", channel=Channel.PHONE, call_outcome="answered")
    assert result.callback is False
    assert "callback" not in result.explanations


def test_a_missed_call_keeps_what_its_ivr_key_says() -> None:
    result = classify_message(
        "Cuộc gọi nhỡ", channel=Channel.PHONE, ivr_path="2", call_outcome="missed"
    )
    assert (result.category, result.callback) == ("billing", True)


def test_the_callback_marker_is_data_a_rule_file_may_change() -> None:
    rules = parse_rules(
        {
            "version": 1,
            "rules": [
                {"id": "no", "when": {"call_outcome": ["abandoned"]}, "set": {"callback": False}},
                {"id": "yes", "when": {"channel": ["phone"]}, "set": {"callback": True}},
            ],
        }
    )
    abandoned = classify_message("x", rules, channel=Channel.PHONE, call_outcome="abandoned")
    missed = classify_message("x", rules, channel=Channel.PHONE, call_outcome="missed")
    assert (abandoned.callback, missed.callback) == (False, True)
