import json
from typing import Any

import pytest

from s8_intake.domain.candidates import MAX_MENTIONS, Candidate
from s8_intake.domain.model import NormalizedMessage
from s8_intake.domain.normalize import NO_TEXT, normalize, ticket_token
from s8_shared.contracts import Channel, Identity
from s8_shared.contracts.inbound import TranscriptLine, parse_inbound
from s8_testing.builders import make_sms

OWN = frozenset({"hotro@shop.vn", "support@shop.example"})
RECEIVED = "2026-11-25T09:30:00+07:00"


def run(data: dict[str, Any], **kwargs: Any) -> NormalizedMessage:
    return normalize(parse_inbound(data), **kwargs)


def email(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "email",
        "channel_message_id": "<CAF7x9Q@mail.gmail.com>",
        "received_at": RECEIVED,
        "from": {"address": "Lan.Nguyen@Example.VN", "name": "Nguyễn Thị Lan"},
        "to": [{"address": "hotro@shop.vn"}],
        "subject": "Chưa nhận được hoàn tiền đơn #A1023",
        "text": "Chào shop,\nTôi đã trả hàng từ 10/11 nhưng chưa nhận được hoàn tiền.",
    }
    data.update(overrides)
    return data


# --- email ------------------------------------------------------------------------------


def test_a_customer_email_is_normalized_and_not_skipped() -> None:
    msg = run(
        email(
            cc=[{"address": "Minh.Tran@Example.VN"}],
            attachments=[{"filename": "bien-lai.pdf", "content_type": "application/pdf"}],
            headers={"Return-Path": "<lan.nguyen@example.vn>", "X-Mailer": "Gmail"},
        ),
        own_addresses=OWN,
    )
    assert msg.channel is Channel.EMAIL
    assert msg.dedup_key == "email:<CAF7x9Q@mail.gmail.com>"
    assert msg.sent_at is not None
    assert msg.sent_at.isoformat() == RECEIVED
    assert msg.identities == (Identity(kind="email", value="lan.nguyen@example.vn"),)
    assert msg.display_name == "Nguyễn Thị Lan"
    assert msg.subject == "Chưa nhận được hoàn tiền đơn #A1023"
    assert msg.text.startswith("Chào shop,\nTôi đã trả hàng")
    assert msg.reply_address == "lan.nguyen@example.vn"
    assert msg.attachments == ("bien-lai.pdf",)
    assert msg.details["cc"] == ["minh.tran@example.vn"]
    assert msg.public is True
    assert msg.skip_reason is None
    assert msg.ticket_token is None


@pytest.mark.parametrize(
    ("overrides", "reason_contains"),
    [
        ({"headers": {"Auto-Submitted": "auto-replied"}}, "Auto-Submitted"),
        ({"headers": {"auto-submitted": "auto-generated"}}, "Auto-Submitted"),
        ({"headers": {"Precedence": "bulk"}}, "Precedence"),
        ({"headers": {"PRECEDENCE": "Junk"}}, "Precedence"),
        ({"headers": {"Precedence": "list"}}, "Precedence"),
        ({"headers": {"Precedence": "auto_reply"}}, "Precedence"),
        ({"headers": {"X-Autoreply": "yes"}}, "x-autoreply"),
        ({"headers": {"X-Autorespond": "Tôi đang nghỉ phép"}}, "x-autorespond"),
        ({"headers": {"X-Auto-Response-Suppress": "All"}}, "X-Auto-Response-Suppress"),
        ({"headers": {"X-Auto-Response-Suppress": "DR, OOF, AutoReply"}}, "Suppress"),
        ({"headers": {"Return-Path": "<>"}}, "bounce"),
        ({"headers": {"Return-Path": ""}}, "bounce"),
        ({"from": {"address": "MAILER-DAEMON@mx.gmail.com"}}, "system sender"),
        ({"from": {"address": "postmaster@shop.vn"}}, "system sender"),
        ({"from": {"address": "noreply@zalopay.vn"}}, "system sender"),
        ({"from": {"address": "no-reply@accounts.google.com"}}, "system sender"),
        ({"from": {"address": "donotreply@vietcombank.com.vn"}}, "system sender"),
        ({"from": {"address": "HoTro@Shop.VN", "name": "Hỗ trợ"}}, "mail loop"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_auto_replies_bounces_and_mail_loops_are_skipped(
    overrides: dict[str, Any], reason_contains: str
) -> None:
    msg = run(email(**overrides), own_addresses=OWN)
    assert msg.skip_reason is not None
    assert reason_contains.lower() in msg.skip_reason.lower()


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "no"},
        {"Precedence": "first-class"},
        {"X-Auto-Response-Suppress": "DR, RN"},
        {"Return-Path": "<lan.nguyen@example.vn>"},
        {"In-Reply-To-Bot": "no"},
    ],
)
def test_harmless_headers_do_not_skip_an_email(headers: dict[str, str]) -> None:
    assert run(email(headers=headers), own_addresses=OWN).skip_reason is None


def test_html_body_is_used_when_there_is_no_plain_text() -> None:
    html = (
        "<html><head><style>p{}</style></head><body><p>Máy giặt báo lỗi E21.</p>"
        "<p>Nhờ shop hỗ trợ&nbsp;ạ.</p><script>alert(1)</script></body></html>"
    )
    msg = run(email(text=None, html=html))
    assert msg.text == "Máy giặt báo lỗi E21.\n\nNhờ shop hỗ trợ ạ."


def test_the_quoted_previous_email_is_cut_from_a_reply() -> None:
    body = (
        "Mình vẫn chưa nhận được tiền.\n\n"
        "Vào Th 2, 25 thg 11, 2026 lúc 09:30 Nguyễn Lan <lan@example.vn> đã viết:\n"
        "> Shop đã hoàn tiền cho chị."
    )
    assert run(email(text=body)).text == "Mình vẫn chưa nhận được tiền."


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"text": None, "html": None}, "Chưa nhận được hoàn tiền đơn #A1023"),
        ({"text": "  \n ", "html": "<p> </p>"}, "Chưa nhận được hoàn tiền đơn #A1023"),
        ({"text": None, "subject": ""}, NO_TEXT),
    ],
)
def test_an_empty_body_falls_back_to_the_subject(overrides: dict[str, Any], expected: str) -> None:
    assert run(email(**overrides)).text == expected


def test_thread_refs_are_in_reply_to_then_references_without_repeats() -> None:
    msg = run(
        email(
            in_reply_to="<t-1@shop.vn>",
            references=["<t-0@shop.vn>", "<t-1@shop.vn>", "<t-2@shop.vn>"],
        )
    )
    assert msg.thread_refs == ("<t-1@shop.vn>", "<t-0@shop.vn>", "<t-2@shop.vn>")


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: [#T-0123456789abcdef] Hoàn tiền", "T-0123456789abcdef"),
        ("RE: Hoàn tiền [#T-0123456789ABCDEF]", "T-0123456789abcdef"),
        ("Fwd: Re: Re: [#T-a1b2c3d4e5f60718] Warranty", "T-a1b2c3d4e5f60718"),
        ("Re: #T-0123456789abcdef without brackets", None),
        ("Re: [#T-0123] too short", None),
        ("Order #A1023", None),
    ],
)
def test_ticket_token_is_read_from_the_subject(subject: str, expected: str | None) -> None:
    assert ticket_token(subject) == expected
    assert run(email(subject=subject)).ticket_token == expected


# --- chat, bot, social ------------------------------------------------------------------


def live_chat(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "live_chat",
        "channel_message_id": "lc-msg-7781",
        "received_at": RECEIVED,
        "session_id": "sess-42",
        "visitor_id": "v-9f3a",
        "visitor_name": "Trần Minh",
        "page_url": "https://shop.vn/tu-lanh/rt-35",
        "text": "Tủ lạnh RT35 còn hàng ở Đà Nẵng không shop?",
        "transcript": [
            {"author": "bot", "text": "Xin chào! Shop có thể giúp gì ạ?"},
            {"author": "customer", "text": "Tủ lạnh RT35 còn hàng ở Đà Nẵng không shop?"},
        ],
    }
    data.update(overrides)
    return data


def test_a_live_chat_visitor_is_their_visitor_id_and_what_they_typed_is_only_a_candidate() -> None:
    msg = run(live_chat(visitor_email="Minh.Tran@Gmail.com", visitor_phone="0903 123 456"))
    assert msg.identities == (Identity(kind="chat_visitor", value="v-9f3a"),)
    assert msg.candidates == (
        Candidate(Identity(kind="email", value="minh.tran@gmail.com"), "contact_field"),
        Candidate(Identity(kind="phone", value="+84903123456"), "contact_field"),
    )
    assert msg.conversation_key == "live_chat:sess-42"
    assert msg.reply_address == "v-9f3a"
    assert msg.display_name == "Trần Minh"
    assert msg.public is True
    assert msg.details == {"page_url": "https://shop.vn/tu-lanh/rt-35"}
    assert msg.transcript[0] == TranscriptLine(
        author="bot", text="Xin chào! Shop có thể giúp gì ạ?"
    )


def test_a_live_chat_phone_that_is_not_valid_is_left_out() -> None:
    msg = run(live_chat(visitor_phone="0903"))
    assert msg.identities == (Identity(kind="chat_visitor", value="v-9f3a"),)


def test_a_chatbot_handoff_keeps_reason_confidence_and_transcript() -> None:
    msg = run(
        {
            "channel": "chatbot",
            "channel_message_id": "bot-msg-5512",
            "bot_conversation_id": "conv-8812",
            "visitor_id": "v-77",
            "visitor_name": "Lê Hoàng",
            "visitor_phone": "+84 912 345 678",
            "text": "Cho tôi gặp nhân viên, bot không hiểu",
            "transcript": [
                {"author": "customer", "text": "Đổi trả máy lọc nước thế nào?"},
                {"author": "bot", "text": "Bạn có thể xem chính sách đổi trả tại đây."},
                {"author": "customer", "text": "Cho tôi gặp nhân viên, bot không hiểu"},
            ],
            "handoff_requested": True,
            "handoff_reason": "customer_asked_for_agent",
            "bot_confidence": 0.31,
        }
    )
    assert msg.channel is Channel.CHATBOT
    assert msg.handoff_requested is True
    assert msg.handoff_reason == "customer_asked_for_agent"
    assert msg.bot_confidence == pytest.approx(0.31)
    assert len(msg.transcript) == 3
    assert msg.conversation_key == "chatbot:conv-8812"
    assert msg.identities == (Identity(kind="chat_visitor", value="v-77"),)
    assert [c.identity for c in msg.candidates] == [Identity(kind="phone", value="+84912345678")]
    assert msg.reply_address == "v-77"
    assert msg.display_name == "Lê Hoàng"


def test_a_chatbot_conversation_without_handoff_has_defaults() -> None:
    msg = run(
        {
            "channel": "chatbot",
            "channel_message_id": "bot-msg-1",
            "bot_conversation_id": "conv-1",
            "visitor_id": "v-1",
            "text": "What are your opening hours in Hanoi?",
        }
    )
    assert (msg.handoff_requested, msg.handoff_reason, msg.bot_confidence) == (False, None, None)
    assert msg.identities == (Identity(kind="chat_visitor", value="v-1"),)


def social(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "social",
        "channel_message_id": "m_AbC123",
        "platform": "facebook",
        "page_id": "1029384756",
        "sender_id": "6543210987654321",
        "sender_name": "Phạm Thu Hà",
        "thread_id": "t_998877",
        "text": "Shop ơi em nhắn mãi không ai trả lời vậy?",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("platform", ["facebook", "zalo", "instagram", "x"])
def test_a_social_private_message_is_identified_by_platform_and_sender(platform: str) -> None:
    msg = run(social(platform=platform))
    assert msg.identities == (
        Identity.model_validate({"kind": platform, "value": "6543210987654321"}),
    )
    assert msg.conversation_key == f"social:{platform}:t_998877"
    assert msg.public is False
    assert msg.details["public_comment"] is False
    assert msg.reply_address == "6543210987654321"
    assert msg.display_name == "Phạm Thu Hà"


def test_a_public_comment_is_marked_public() -> None:
    msg = run(
        social(
            kind="public_comment",
            post_id="1029384756_555",
            text="Giao hàng chậm quá, 2 tuần rồi chưa thấy đâu!",
        )
    )
    assert msg.public is True
    assert msg.details["public_comment"] is True
    assert msg.details["post_id"] == "1029384756_555"


# --- phone and sms ----------------------------------------------------------------------


def call(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "phone",
        "channel_message_id": "call-20261125-0001",
        "received_at": RECEIVED,
        "caller_number": "0903123456",
        "caller_name": "Võ Thanh Tùng",
        "dialled_line": "1900 1234",
        "ivr_path": "1-3",
        "duration_seconds": 0,
        "missed": True,
    }
    data.update(overrides)
    return data


def test_a_missed_vietnamese_call_gets_a_vietnamese_description() -> None:
    msg = run(call())
    assert msg.text == "Cuộc gọi nhỡ từ +84903123456"
    assert msg.identities == (Identity(kind="phone", value="+84903123456"),)
    assert msg.conversation_key == "phone:+84903123456"
    assert msg.reply_address == "+84903123456"
    assert msg.ivr_path == "1-3"
    assert msg.display_name == "Võ Thanh Tùng"
    assert msg.details == {
        "duration_seconds": 0,
        "missed": True,
        "abandoned": False,
        "dialled_line": "+8419001234",
    }


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"caller_number": "+65 6123 4567", "dialled_line": "+65 6100 0000"},
            "Missed call from +6561234567",
        ),
        (
            {"caller_number": "+65 6123 4567", "dialled_line": "1900 1234"},
            "Cuộc gọi nhỡ từ +6561234567",
        ),
        (
            {
                "caller_number": "+1 650 253 0000",
                "dialled_line": "",
                "missed": False,
                "abandoned": True,
            },
            "Abandoned call from +16502530000 (hung up while waiting)",
        ),
        (
            {"missed": False, "abandoned": True},
            "Cuộc gọi từ +84903123456 bị ngắt khi đang chờ",
        ),
        ({"missed": False, "duration_seconds": 185}, "Cuộc gọi từ +84903123456 (185 giây)"),
        (
            {"missed": False, "voicemail_transcript": "Alo, tôi gọi về bảo hành máy lạnh."},
            "Alo, tôi gọi về bảo hành máy lạnh.",
        ),
        ({"notes": "Khách hỏi lịch lắp đặt điều hòa"}, "Khách hỏi lịch lắp đặt điều hòa"),
    ],
)
def test_call_text_is_the_voicemail_or_notes_or_a_description(
    overrides: dict[str, Any], expected: str
) -> None:
    assert run(call(**overrides)).text == expected


def test_a_caller_number_that_is_not_valid_falls_back_to_its_digits() -> None:
    msg = run(call(caller_number="+84 12-34"))
    assert msg.identities == (Identity(kind="phone", value="841234"),)
    assert msg.conversation_key == "phone:841234"


def test_an_sms_is_identified_by_the_sender_number() -> None:
    msg = run(
        {
            "channel": "sms",
            "channel_message_id": "sms-7731",
            "from_number": "84987654321",
            "to_number": "8077",
            "text": "Ma don hang A1023 giao chua vay shop",
        }
    )
    assert msg.identities == (Identity(kind="phone", value="+84987654321"),)
    assert msg.conversation_key == "sms:+84987654321"
    assert msg.reply_address == "+84987654321"
    assert msg.text == "Ma don hang A1023 giao chua vay shop"
    assert msg.public is False


# --- web form and on-site ---------------------------------------------------------------


def test_a_web_form_keeps_category_subject_and_fields() -> None:
    msg = run(
        {
            "channel": "web_form",
            "channel_message_id": "form-2026-000123",
            "name": "Đặng Quốc Bảo",
            "email": "Bao.Dang@Example.VN",
            "phone": "0912 345 678",
            "category": "warranty",
            "subject": "Bảo hành máy lọc không khí",
            "text": "Máy lọc không khí AP-200 kêu to bất thường sau 3 tháng sử dụng.",
            "fields": {"order_number": "A2048", "purchase_date": "2026-08-14"},
        }
    )
    # The first contact is whom we answer; the second is only a candidate.
    assert msg.identities == (Identity(kind="email", value="bao.dang@example.vn"),)
    assert [c.identity for c in msg.candidates] == [Identity(kind="phone", value="+84912345678")]
    assert msg.customer_category == "warranty"
    assert msg.subject == "Bảo hành máy lọc không khí"
    assert msg.details == {"order_number": "A2048", "purchase_date": "2026-08-14"}
    assert msg.reply_address == "bao.dang@example.vn"
    assert msg.display_name == "Đặng Quốc Bảo"


def test_a_web_form_with_only_a_phone_replies_to_the_phone() -> None:
    msg = run(
        {
            "channel": "web_form",
            "channel_message_id": "form-2",
            "phone": "+65 9123 4567",
            "text": "Please call me back about my order.",
        }
    )
    assert msg.identities == (Identity(kind="phone", value="+6591234567"),)
    assert msg.reply_address == "+6591234567"


def test_an_on_site_request_keeps_address_window_and_asset() -> None:
    msg = run(
        {
            "channel": "on_site",
            "channel_message_id": "fs-5567",
            "name": "Hoàng Văn Nam",
            "phone": "0243 826 1234",
            "email": "nam.hoang@example.vn",
            "address": "12 Phố Huế, Hai Bà Trưng, Hà Nội",
            "region": "Hà Nội",
            "window_start": "2026-11-27T08:00:00+07:00",
            "window_end": "2026-11-27T12:00:00+07:00",
            "asset_model": "Daikin FTKC35",
            "serial_number": "DK35-889911",
            "text": "Điều hòa chảy nước, cần kỹ thuật đến kiểm tra.",
        }
    )
    assert msg.identities == (Identity(kind="phone", value="+842438261234"),)
    assert [c.identity for c in msg.candidates] == [
        Identity(kind="email", value="nam.hoang@example.vn")
    ]
    assert msg.region == "Hà Nội"
    assert msg.reply_address == "+842438261234"
    assert msg.display_name == "Hoàng Văn Nam"
    assert msg.details == {
        "address": "12 Phố Huế, Hai Bà Trưng, Hà Nội",
        "window_start": "2026-11-27T08:00:00+07:00",
        "window_end": "2026-11-27T12:00:00+07:00",
        "asset_model": "Daikin FTKC35",
        "serial_number": "DK35-889911",
    }


# --- every channel ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        email(),
        live_chat(),
        social(),
        call(),
        {"channel": "sms", "channel_message_id": "s1", "from_number": "0903123456", "text": "Hi"},
        {"channel": "web_form", "channel_message_id": "f1", "email": "a@b.vn", "text": "Hỏi"},
        {"channel": "chatbot", "channel_message_id": "b1", "bot_conversation_id": "c",
         "visitor_id": "v", "text": "Hello"},
        {"channel": "on_site", "channel_message_id": "o1", "phone": "0903123456",
         "address": "1 Lê Lợi, Quận 1", "region": "TP. Hồ Chí Minh", "text": "Sửa máy giặt"},
    ],
    ids=lambda d: d["channel"],
)  # fmt: skip
def test_every_channel_gives_json_friendly_details_and_its_dedup_key(
    data: dict[str, Any],
) -> None:
    message = parse_inbound(data)
    msg = normalize(message)
    assert msg.dedup_key == message.dedup_key()
    assert msg.channel == message.channel_kind
    assert msg.identities
    assert msg.text.strip()
    json.dumps(msg.details)  # must not raise
    assert msg.skip_reason is None


def test_an_email_is_answered_at_its_reply_to_address_when_it_has_one() -> None:
    message = parse_inbound(
        {
            "channel": "email",
            "channel_message_id": "<r1@example.vn>",
            "from": {"address": "noreply-relay@crm.example.vn"},
            "reply_to": {"address": "Lan.Nguyen@Example.vn"},
            "subject": "Hỏi về đơn hàng",
            "text": "Đơn A1023 đến đâu rồi ạ?",
        }
    )
    assert normalize(message).reply_address == "lan.nguyen@example.vn"


def test_an_html_body_stopped_for_its_tags_records_the_cut() -> None:
    html = "<p>đơn <b>B1</b></p>" * 10_000  # 50,000 tags and texts
    assert run(email(text=None, html=html)).text_cut_from == len(html)


def test_phones_and_emails_in_a_message_text_are_candidates_not_identities() -> None:
    msg = run(
        make_sms(text="Chị Lan đây, email lan.nguyen@example.vn hoặc gọi 0912 345 678 giúp chị")
    )
    assert msg.identities == (Identity(kind="phone", value="+84903123456"),)
    assert msg.candidates == (
        Candidate(Identity(kind="email", value="lan.nguyen@example.vn"), "text"),
        Candidate(Identity(kind="phone", value="+84912345678"), "text"),
    )


def test_the_sender_s_own_number_in_the_text_is_not_a_candidate() -> None:
    msg = run(make_sms(text="Số của tôi là 0903 123 456"))
    assert msg.candidates == ()


def test_an_email_reply_to_is_a_candidate_and_the_sender_the_identity() -> None:
    msg = run(email(reply_to={"address": "Shared@Shop.vn"}, text="Cảm ơn", html=None))
    assert [i.kind for i in msg.identities] == ["email"]
    assert msg.candidates[0] == Candidate(
        Identity(kind="email", value="shared@shop.vn"), "reply_to"
    )


def test_a_phone_zalo_vouches_for_is_a_proven_identity_of_the_sender() -> None:
    msg = run(
        {
            "channel": "social",
            "channel_message_id": "zalo-submit-1",
            "platform": "zalo",
            "page_id": "oa-1",
            "sender_id": "4012",
            "thread_id": "4012",
            "shared_phone": "0912345678",
        }
    )
    assert msg.identities == (
        Identity(kind="zalo", value="4012"),
        Identity(kind="phone", value="+84912345678"),
    )


def test_many_mentions_are_bounded() -> None:
    text = " ".join(f"u{n}@example.vn 09{n:08d}" for n in range(200))
    msg = run(make_sms(text=text))
    assert len(msg.candidates) <= 2 * MAX_MENTIONS


def test_an_sms_quoting_a_ticket_token_names_that_ticket() -> None:
    msg = run(make_sms(text="Về yêu cầu [#T-0123456789ABCDEF] của tôi, đã có kết quả chưa?"))
    assert msg.ticket_token == "T-0123456789abcdef"
    assert run(make_sms()).ticket_token is None
