"""Intake on the real broker and store: every channel, threading, customers across
channels, dedup, self-service, agent actions and bad input."""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from s8_analytics.adapters.handlers import TICKET_TOPIC_EVENTS
from s8_shared import topics
from s8_shared.contracts import DEADLETTER_EVENTS
from s8_shared.contracts.surveys import SurveyFollowupPayload, SurveyFollowupRequested
from s8_shared.settings import DEV_SECRET
from s8_testing.builders import make_inbound, make_sms
from s8_testing.harness import TestStack, eventually
from s8_testing.intake_stack import Intake, running_intake

pytestmark = pytest.mark.integration

EVERY_CHANNEL: dict[str, dict[str, Any]] = {
    "email": make_inbound(),
    "live_chat": {
        "channel": "live_chat",
        "channel_message_id": "chat-1",
        "session_id": "S-1",
        "visitor_id": "v-1",
        "text": "Shop ơi, đơn A1023 của mình giao chưa vậy?",
    },
    "social": {
        "channel": "social",
        "channel_message_id": "fb-1",
        "platform": "facebook",
        "page_id": "s8shop",
        "sender_id": "1000123",
        "thread_id": "t-1",
        "kind": "public_comment",
        "text": "Dịch vụ quá tệ, gọi tổng đài mãi không ai nghe!",
    },
    "phone": {
        "channel": "phone",
        "channel_message_id": "call-1",
        "caller_number": "0912345678",
        "dialled_line": "19001234",
        "ivr_path": "2",
        "duration_seconds": 0,
        "missed": True,
        "voicemail_transcript": "Tôi bị trừ tiền hai lần cho một đơn hàng, gọi lại cho tôi gấp.",
    },
    "sms": make_sms(),
    "web_form": {
        "channel": "web_form",
        "channel_message_id": "form-1",
        "name": "Lê Hoàng Anh",
        "email": "hoanganh.le@example.com.vn",
        "category": "technical",
        "subject": "Không đăng nhập được",
        "text": "Tôi không đăng nhập được vào ứng dụng từ sáng nay, báo lỗi mật khẩu sai.",
    },
    "chatbot": {
        "channel": "chatbot",
        "channel_message_id": "bot-1",
        "bot_conversation_id": "B-1",
        "visitor_id": "v-2",
        "text": "I want to talk to a person about my refund",
        "transcript": [
            {"author": "customer", "text": "refund status?"},
            {"author": "bot", "text": "Please share your order number."},
        ],
        "handoff_requested": True,
        "handoff_reason": "customer asked for a human",
        "bot_confidence": 0.31,
    },
    "on_site": {
        "channel": "on_site",
        "channel_message_id": "visit-1",
        "name": "Phạm Thu Hà",
        "phone": "0934567890",
        "address": "12 Trần Duy Hưng, Cầu Giấy",
        "region": "Hà Nội",
        "asset_model": "AquaPure X2",
        "serial_number": "AP123456",
        "text": "Máy lọc nước bị rò nước, cần kỹ thuật viên đến kiểm tra.",
        "window_start": "2026-11-27T08:00:00+07:00",
        "window_end": "2026-11-27T12:00:00+07:00",
    },
}


@pytest.fixture
async def intake(stack: TestStack) -> AsyncIterator[Intake]:
    async for running in running_intake(stack):
        yield running


async def test_every_channel_becomes_a_ticket_with_its_details(intake: Intake) -> None:
    results = {channel: await intake.post(message) for channel, message in EVERY_CHANNEL.items()}
    assert {r["outcome"] for r in results.values()} == {"created"}
    created = {
        e.payload.ticket.channel.value: e.payload
        for e in await intake.events()
        if e.type == "ticket.created"
    }
    assert set(created) == set(EVERY_CHANNEL)
    assert created["phone"].ticket.category == "billing"  # IVR 2
    assert created["social"].ticket.negative_sentiment
    assert created["on_site"].ticket.region == "Hà Nội"
    assert created["on_site"].ticket.tier_required == "field"
    assert created["chatbot"].ticket.bot_handoff
    assert [m.text for m in created["chatbot"].transcript] == [
        "refund status?",
        "Please share your order number.",
    ]
    assert created["web_form"].ticket.category == "technical"
    email = await intake.ticket(results["email"]["ticket_id"])
    assert email["ticket"]["classified_by"]["category"]


async def test_the_same_message_twice_is_stored_once(intake: Intake) -> None:
    first = await intake.post(make_inbound())
    again = await intake.post(make_inbound())
    assert (first["outcome"], again["outcome"]) == ("created", "duplicate")
    assert first["ticket_id"] == again["ticket_id"]
    assert len((await intake.ticket(first["ticket_id"]))["messages"]) == 1
    assert len([e for e in await intake.events() if e.type == "ticket.created"]) == 1


async def test_an_email_reply_joins_its_thread_and_a_ticket_token_too(intake: Intake) -> None:
    first = await intake.post(make_inbound())
    reply = await intake.post(
        make_inbound(
            channel_message_id="<m2@example.vn>",
            in_reply_to="<m1@example.vn>",
            references=["<m1@example.vn>"],
            subject="Re: Hoàn tiền đơn #A1023",
            text="Mình bổ sung ảnh chụp hóa đơn.",
        )
    )
    token = await intake.post(
        make_inbound(
            channel_message_id="<m3@example.vn>",
            subject=f"Về yêu cầu [#{first['ticket_id']}]",
            text="Có tin gì chưa ạ?",
        )
    )
    assert reply == {"outcome": "joined", "ticket_id": first["ticket_id"], "reason": None}
    assert token["ticket_id"] == first["ticket_id"]
    assert len((await intake.ticket(first["ticket_id"]))["messages"]) == 3


async def test_a_chat_session_is_one_ticket(intake: Intake) -> None:
    chat = EVERY_CHANNEL["live_chat"]
    first = await intake.post(chat)
    second = await intake.post(
        {**chat, "channel_message_id": "chat-2", "text": "Mình đợi nãy giờ rồi"}
    )
    assert second["ticket_id"] == first["ticket_id"]


async def test_a_reply_after_solving_reopens_within_the_window(intake: Intake) -> None:
    first = await intake.post(make_inbound())
    solved = await intake.act(
        first["ticket_id"], kind="set_status", action_id="a1", actor_id="agent-1", status="solved"
    )
    assert solved.status_code == 200, solved.text
    again = await intake.post(
        make_inbound(
            channel_message_id="<m2@example.vn>",
            in_reply_to="<m1@example.vn>",
            text="Vẫn chưa nhận được tiền!",
        )
    )
    assert (again["outcome"], again["ticket_id"]) == ("reopened", first["ticket_id"])
    ticket = (await intake.ticket(first["ticket_id"]))["ticket"]
    assert (ticket["status"], ticket["reopen_count"]) == ("open", 1)


async def test_after_the_reopen_window_a_new_linked_ticket_opens(stack: TestStack) -> None:
    async for intake in running_intake(stack, reopen_window_days=0):
        first = await intake.post(make_inbound())
        await intake.act(
            first["ticket_id"],
            kind="set_status",
            action_id="a1",
            actor_id="agent-1",
            status="solved",
        )
        again = await intake.post(
            make_inbound(channel_message_id="<m2@example.vn>", in_reply_to="<m1@example.vn>")
        )
        assert again["outcome"] == "created"
        assert again["ticket_id"] != first["ticket_id"]
        assert (await intake.ticket(again["ticket_id"]))["ticket"]["linked_ticket_id"] == first[
            "ticket_id"
        ]


async def test_a_chat_visitor_who_types_someone_s_email_is_only_suggested_until_an_agent_confirms(
    intake: Intake,
) -> None:
    by_email = await intake.post(make_inbound())
    anonymous = await intake.post(
        {**EVERY_CHANNEL["live_chat"], "session_id": "S-7", "channel_message_id": "c-7"}
    )
    email_customer = (await intake.ticket(by_email["ticket_id"]))["ticket"]["customer_id"]
    visitor_customer = (await intake.ticket(anonymous["ticket_id"]))["ticket"]["customer_id"]
    assert email_customer != visitor_customer

    typed = {
        **EVERY_CHANNEL["live_chat"],
        "session_id": "S-7",
        "channel_message_id": "c-8",
        "visitor_email": "Lan.Nguyen@example.vn",
        "text": "Email của mình là Lan.Nguyen@example.vn",
    }
    await intake.post(typed)
    # Self-asserted: nothing merged, the e-mail customer's record is untouched.
    lan = (await intake.http.get(f"/v1/customers/{email_customer}")).json()
    assert {t["ticket_id"] for t in lan["tickets"]} == {by_email["ticket_id"]}
    assert lan["merges"] == []
    visitor = (await intake.http.get(f"/v1/customers/{visitor_customer}")).json()
    assert visitor["customer_id"] == visitor_customer
    assert ("email", "lan.nguyen@example.vn") not in {
        (i["kind"], i["value"]) for i in visitor["identities"]
    }
    [suggestion] = visitor["suggested_merges"]
    assert suggestion["state"] == "open"
    assert set(suggestion["customers"]) == {email_customer, visitor_customer}
    assert suggestion["identity"] == {"kind": "email", "value": "lan.nguyen@example.vn"}
    assert suggestion["confidence"] == 0.6
    assert "contact field" in suggestion["reason"]
    assert (
        lan["suggested_merges"] == []
        or lan["suggested_merges"][0]["suggestion_id"] == (suggestion["suggestion_id"])
    )

    # An agent confirms: one customer, the oldest survives, with both tickets.
    sid = suggestion["suggestion_id"]
    confirmed = await intake.http.post(f"/v1/customers/suggestions/{sid}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "confirmed"
    assert (await intake.http.post(f"/v1/customers/suggestions/{sid}/confirm")).status_code == 409
    merged = (await intake.http.get(f"/v1/customers/{email_customer}")).json()
    assert {t["ticket_id"] for t in merged["tickets"]} == {
        by_email["ticket_id"],
        anonymous["ticket_id"],
    }
    [merge] = merged["merges"]
    assert merge["merge_id"] == confirmed.json()["merge_id"]

    # Undone: exactly what was before, and the same typed e-mail does not merge them again.
    undone = await intake.http.post(f"/v1/customers/merges/{merge['merge_id']}/undo")
    assert undone.status_code == 200
    await intake.post({**typed, "channel_message_id": "c-9"})
    after = (await intake.http.get(f"/v1/customers/{email_customer}")).json()
    assert {t["ticket_id"] for t in after["tickets"]} == {by_email["ticket_id"]}
    assert {(i["kind"], i["value"]) for i in after["identities"]} == {
        ("email", "lan.nguyen@example.vn")
    }
    apart = (await intake.http.get(f"/v1/customers/{visitor_customer}")).json()
    assert apart["customer_id"] == visitor_customer
    assert {(i["kind"], i["value"]) for i in apart["identities"]} == {("chat_visitor", "v-1")}
    assert [s["state"] for s in apart["suggested_merges"]] == ["confirmed"]


async def test_a_mail_from_the_typed_address_naming_the_visitor_s_ticket_confirms_the_suggestion(
    intake: Intake,
) -> None:
    by_email = await intake.post(make_inbound())
    chat = await intake.post(
        {
            **EVERY_CHANNEL["live_chat"],
            "session_id": "S-9",
            "channel_message_id": "c-90",
            "visitor_email": "lan.nguyen@example.vn",
        }
    )
    visitor = (await intake.ticket(chat["ticket_id"]))["ticket"]["customer_id"]
    [open_] = (await intake.http.get(f"/v1/customers/{visitor}")).json()["suggested_merges"]
    assert open_["state"] == "open"
    # The mailbox's owner writes about the visitor's ticket: the address is theirs.
    mail = await intake.post(
        make_inbound(
            channel_message_id="<proof@example.vn>",
            subject=f"[#{chat['ticket_id']}] Hóa đơn đơn hàng",
            text="Tôi gửi hóa đơn như đã nói trong chat.",
        )
    )
    assert (mail["outcome"], mail["ticket_id"]) == ("joined", chat["ticket_id"])
    lan = (await intake.ticket(by_email["ticket_id"]))["ticket"]["customer_id"]
    one = (await intake.http.get(f"/v1/customers/{visitor}")).json()
    assert one["customer_id"] == lan  # the older customer survives
    assert {t["ticket_id"] for t in one["tickets"]} == {by_email["ticket_id"], chat["ticket_id"]}
    [confirmed] = one["suggested_merges"]
    assert confirmed["state"] == "confirmed"
    assert confirmed["merge_id"] == one["merges"][0]["merge_id"]


async def test_an_sms_from_the_typed_number_naming_the_visitor_s_ticket_confirms_the_suggestion(
    intake: Intake,
) -> None:
    texted = await intake.post(make_sms(from_number="0912345678", channel_message_id="sms-p1"))
    chat = await intake.post(
        {
            **EVERY_CHANNEL["live_chat"],
            "session_id": "S-11",
            "channel_message_id": "c-110",
            "visitor_id": "v-11",
            "visitor_phone": "0912 345 678",
        }
    )
    visitor = (await intake.ticket(chat["ticket_id"]))["ticket"]["customer_id"]
    [open_] = (await intake.http.get(f"/v1/customers/{visitor}")).json()["suggested_merges"]
    assert (open_["state"], open_["identity"]["value"]) == ("open", "+84912345678")
    proof = await intake.post(
        make_sms(
            from_number="0912345678",
            channel_message_id="sms-p2",
            text=f"Tôi là khách đã chat, mã [#{chat['ticket_id']}]",
        )
    )
    assert (proof["outcome"], proof["ticket_id"]) == ("joined", chat["ticket_id"])
    one = (await intake.http.get(f"/v1/customers/{visitor}")).json()
    assert {t["ticket_id"] for t in one["tickets"]} == {texted["ticket_id"], chat["ticket_id"]}
    assert [s["state"] for s in one["suggested_merges"]] == ["confirmed"]


async def test_a_zalo_customer_who_gives_an_email_is_suggested_when_that_address_writes(
    intake: Intake,
) -> None:
    zalo = await intake.post(
        {
            "channel": "social",
            "channel_message_id": "zalo-m1",
            "platform": "zalo",
            "page_id": "oa-1",
            "sender_id": "4012",
            "thread_id": "4012",
            "text": "Máy lạnh hỏng rồi. Email của em là minh.tran@example.vn nhé",
        }
    )
    mail = await intake.post(
        make_inbound(
            channel_message_id="<later@example.vn>",
            **{"from": {"address": "minh.tran@example.vn", "name": "Minh"}},
        )
    )
    zalo_customer = (await intake.ticket(zalo["ticket_id"]))["ticket"]["customer_id"]
    mail_customer = (await intake.ticket(mail["ticket_id"]))["ticket"]["customer_id"]
    assert zalo_customer != mail_customer
    [suggestion] = (await intake.http.get(f"/v1/customers/{mail_customer}")).json()[
        "suggested_merges"
    ]
    assert set(suggestion["customers"]) == {zalo_customer, mail_customer}
    assert suggestion["confidence"] == 0.4
    assert "then wrote by email" in suggestion["reason"]
    dismissed = await intake.http.post(
        f"/v1/customers/suggestions/{suggestion['suggestion_id']}/dismiss"
    )
    assert dismissed.json()["state"] == "dismissed"
    assert (await intake.http.get(f"/v1/customers/{zalo_customer}")).json()["customer_id"] == (
        zalo_customer
    )


async def test_a_phone_zalo_vouches_for_merges_the_zalo_user_with_that_caller(
    intake: Intake,
) -> None:
    sms = await intake.post(make_sms(from_number="0912345678", channel_message_id="sms-z"))
    zalo = await intake.post(
        {
            "channel": "social",
            "channel_message_id": "zalo-m2",
            "platform": "zalo",
            "page_id": "oa-1",
            "sender_id": "5077",
            "thread_id": "5077",
            "text": "Cho em hỏi đơn hàng",
        }
    )
    await intake.post(
        {
            "channel": "social",
            "channel_message_id": "submit_info:5077:1",
            "platform": "zalo",
            "page_id": "oa-1",
            "sender_id": "5077",
            "thread_id": "5077",
            "text": "Khách hàng đã chia sẻ thông tin liên hệ qua Zalo",
            "shared_phone": "0912345678",
        }
    )
    sms_customer = (await intake.ticket(sms["ticket_id"]))["ticket"]["customer_id"]
    zalo_customer = (await intake.ticket(zalo["ticket_id"]))["ticket"]["customer_id"]
    one = (await intake.http.get(f"/v1/customers/{zalo_customer}")).json()
    assert one["customer_id"] == sms_customer  # the older customer survives
    assert {(i["kind"], i["value"]) for i in one["identities"]} >= {
        ("zalo", "5077"),
        ("phone", "+84912345678"),
    }


async def test_a_zalo_unfollow_older_than_the_follow_kept_changes_nothing(intake: Intake) -> None:
    def upsert(n: int, following: bool, at: str) -> dict[str, Any]:
        return {
            "upsert_id": f"zalo-follow-{n}",
            "identities": [{"kind": "zalo", "value": "6001"}],
            "follow": {"account": "zalo:oa-1", "following": following, "at": at},
        }

    first = await intake.http.put("/v1/customers", json=upsert(1, True, "2026-01-02T00:00:00Z"))
    customer_id = first.json()["customer_id"]
    await intake.http.put("/v1/customers", json=upsert(2, False, "2026-01-01T00:00:00Z"))
    view = (await intake.http.get(f"/v1/customers/{customer_id}")).json()
    assert [(f["account"], f["following"]) for f in view["follows"]] == [("zalo:oa-1", True)]
    await intake.http.put("/v1/customers", json=upsert(3, False, "2026-01-03T00:00:00Z"))
    view = (await intake.http.get(f"/v1/customers/{customer_id}")).json()
    assert [(f["account"], f["following"]) for f in view["follows"]] == [("zalo:oa-1", False)]


async def test_a_phone_number_in_any_format_is_one_customer(intake: Intake) -> None:
    sms = await intake.post(make_sms(from_number="0903123456"))
    call = await intake.post(
        {
            **EVERY_CHANNEL["phone"],
            "caller_number": "+84 903 123 456",
            "channel_message_id": "call-9",
        }
    )
    sms_ticket = (await intake.ticket(sms["ticket_id"]))["ticket"]
    call_ticket = (await intake.ticket(call["ticket_id"]))["ticket"]
    assert sms_ticket["customer_id"] == call_ticket["customer_id"]


async def test_a_faq_question_is_deflected_and_a_follow_up_goes_to_a_human(intake: Intake) -> None:
    question = make_inbound(
        channel_message_id="<q1@example.vn>",
        subject="Quên mật khẩu",
        text="Làm sao để đổi mật khẩu tài khoản của tôi?",
    )
    result = await intake.post(question)
    ticket = (await intake.ticket(result["ticket_id"]))["ticket"]
    assert (ticket["status"], ticket["deflected"]) == ("pending", True)
    [reply] = [o.payload for o in await intake.outbound() if o.payload.kind == "auto_reply_faq"]
    assert (reply.ticket_id, reply.to, reply.channel.value) == (
        result["ticket_id"],
        "lan.nguyen@example.vn",
        "email",
    )

    response = await intake.act(
        result["ticket_id"], kind="not_helpful", action_id="nh-1"
    )  # passed on by the chat widget's channel system
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "open"


async def test_an_email_gets_an_acknowledgement_with_the_promised_time_and_ticket_token(
    intake: Intake,
) -> None:
    result = await intake.post(make_inbound())
    [ack] = [o.payload for o in await intake.outbound() if o.payload.kind == "acknowledgement"]
    assert f"[#{result['ticket_id']}]" in (ack.subject or "") + ack.text
    assert ack.reply_to_message_id == "<m1@example.vn>"


async def test_auto_replies_bounces_and_loops_make_no_ticket(intake: Intake) -> None:
    ooo = await intake.post(
        make_inbound(channel_message_id="<ooo@x>", headers={"Auto-Submitted": "auto-replied"})
    )
    bounce = await intake.post(
        make_inbound(
            channel_message_id="<b@x>", **{"from": {"address": "MAILER-DAEMON@mail.example.vn"}}
        )
    )
    loop = await intake.post(
        make_inbound(channel_message_id="<l@x>", **{"from": {"address": "support@s8.example.vn"}})
    )
    assert [r["outcome"] for r in (ooo, bounce, loop)] == ["skipped"] * 3
    assert all(r["reason"] for r in (ooo, bounce, loop))
    assert [e for e in await intake.events() if e.type == "ticket.created"] == []


async def test_agent_actions_apply_or_are_refused_with_a_reason(intake: Intake) -> None:
    ticket_id = (await intake.post(make_inbound()))["ticket_id"]
    reply = await intake.act(
        ticket_id,
        kind="reply",
        action_id="r1",
        actor_id="agent-1",
        text="Chào chị, em đã kiểm tra.",
    )
    assert (reply.status_code, reply.json()["status"], reply.json()["agent_replies"]) == (
        200,
        "open",
        1,
    )
    again = await intake.act(
        ticket_id,
        kind="reply",
        action_id="r1",
        actor_id="agent-1",
        text="Chào chị, em đã kiểm tra.",
    )
    assert again.json()["agent_replies"] == 1  # the same action id is applied once
    refused = await intake.act(
        ticket_id, kind="set_status", action_id="s1", actor_id="agent-1", status="closed"
    )
    assert refused.status_code == 409
    assert "cannot go from open to closed" in refused.json()["detail"]
    missing = await intake.act("T-nope", kind="note", action_id="n1", actor_id="agent-1", text="x")
    assert missing.status_code == 404
    invalid = await intake.act(
        ticket_id, kind="set_status", action_id="s2", actor_id="agent-1", status="lost"
    )
    assert invalid.status_code == 422
    types = [e.type for e in await intake.events()]
    assert types.count("ticket.message_added") == 1
    assert "ticket.status_changed" in types
    assert [o.payload.kind for o in await intake.outbound()].count("reply") == 1


async def test_actions_on_the_topic_are_applied_and_refusals_dead_lettered(intake: Intake) -> None:
    ticket_id = (await intake.post(make_inbound()))["ticket_id"]
    note = {
        "kind": "note",
        "action_id": "n1",
        "ticket_id": ticket_id,
        "actor_id": "agent-1",
        "text": "Khách VIP",
    }
    bad = {
        "kind": "set_status",
        "action_id": "s1",
        "ticket_id": ticket_id,
        "actor_id": "agent-1",
        "status": "new",
    }
    await intake.stack.send(topics.ACTIONS, json.dumps(note).encode(), key=ticket_id.encode())
    await intake.stack.send(topics.ACTIONS, json.dumps(bad).encode(), key=ticket_id.encode())

    async def dead() -> list[Any]:
        return await intake.stack.read_all(topics.DEADLETTER, DEADLETTER_EVENTS)

    [letter] = await eventually(dead, what="the refused action's dead letter")
    assert (
        "action refused: cannot go from new to new" in letter.payload.reason
        or "already new" in letter.payload.reason
    )
    messages = (await intake.ticket(ticket_id))["messages"]
    assert any(m["text"] == "Khách VIP" and m["public"] is False for m in messages)


async def test_a_vip_from_the_crm_gets_high_priority_and_a_senior_tier(intake: Intake) -> None:
    upsert = {
        "upsert_id": "crm-1",
        "identities": [{"kind": "email", "value": "lan.nguyen@example.vn"}],
        "tier": "vip",
        "language": "vi",
        "region": "Hà Nội",
    }
    await intake.stack.send(topics.CUSTOMERS, json.dumps(upsert).encode(), key=b"lan")

    async def is_vip() -> bool:
        customer = await intake.stack.db(intake.runtime.settings).customers.find_one(
            {"tier": "vip"}
        )
        return customer is not None

    await eventually(is_vip, what="the CRM upsert")
    ticket = (
        await intake.ticket(
            (await intake.post(make_inbound(text="Cho tôi hỏi về hóa đơn tháng này")))["ticket_id"]
        )
    )["ticket"]
    assert ticket["customer_tier"] == "vip"
    assert ticket["priority"] in ("high", "urgent")
    assert ticket["tier_required"] == "L2"


async def test_a_customer_upsert_that_is_not_one_is_dead_lettered_with_its_reason(
    intake: Intake,
) -> None:
    await intake.stack.send(
        topics.CUSTOMERS, json.dumps({"upsert_id": "crm-2"}).encode(), key=b"crm-2"
    )
    await intake.stack.send(topics.CUSTOMERS, b"not json", key=b"crm-3")

    async def both_dead() -> list[Any]:
        letters = await intake.stack.read_all(topics.DEADLETTER, DEADLETTER_EVENTS)
        return letters if len(letters) == 2 else []

    letters = await eventually(both_dead, what="the bad upserts' dead letters")
    assert any("identities" in letter.payload.reason for letter in letters)


async def test_the_webhook_refuses_bad_requests_with_reasons(intake: Intake) -> None:
    no_key = await intake.http.post(
        "/v1/inbound/email", json=make_inbound(), headers={"Authorization": "Bearer wrong"}
    )
    assert no_key.status_code == 401
    other_channel = await intake.http.post(
        "/v1/inbound/email",
        json=make_inbound(),
        headers=await intake.stack.tokens.headers_for("channel-sms"),
    )
    assert other_channel.status_code == 403
    assert other_channel.json()["detail"] == "this client may send sms only"
    agent = await intake.http.post(
        "/v1/inbound/email",
        json=make_inbound(),
        headers=await intake.stack.tokens.headers_for("lan"),
    )
    assert agent.status_code == 403
    keyed = await intake.http.post(  # the development channel key, for systems without OAuth
        "/v1/inbound/email",
        json=make_inbound(),
        headers={"X-API-Key": DEV_SECRET, "Authorization": ""},
    )
    assert keyed.status_code == 202, keyed.text
    elsewhere = await intake.http.get(
        f"/v1/tickets/{keyed.json()['ticket_id']}",
        headers={"X-API-Key": DEV_SECRET, "Authorization": ""},
    )
    assert elsewhere.status_code == 401  # a channel key opens the webhook only
    wrong_key = await intake.http.post(
        "/v1/inbound/email",
        json=make_inbound(),
        headers=[(b"X-API-Key", "khóa-sai".encode()), (b"Authorization", b"")],
    )
    assert wrong_key.status_code == 401
    not_json = await intake.http.post(
        "/v1/inbound/email", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    invalid = await intake.http.post(
        "/v1/inbound/sms", json={"channel_message_id": "s", "from_number": "0903", "text": ""}
    )
    assert invalid.status_code == 422
    assert "text" in invalid.json()["detail"]
    mismatch = await intake.http.post("/v1/inbound/sms", json=make_inbound())
    assert mismatch.status_code == 422
    huge = await intake.http.post("/v1/inbound/email", content=b"{" + b" " * 2_000_000 + b"}")
    assert huge.status_code == 413


async def test_hostile_keys_in_channel_payloads_are_kept_as_data(intake: Intake) -> None:
    result = await intake.post(make_inbound(**{"$where": "sleep(1000)", "a.b": {"$gt": ""}}))
    assert result["outcome"] == "created"
    stored = await intake.stack.db(intake.runtime.settings).messages.find_one(
        {"_id": "email:<m1@example.vn>"}
    )
    assert json.loads(stored["raw_json"]) == {"$where": "sleep(1000)", "a.b": {"$gt": ""}}


async def test_inbound_on_the_topic_flows_and_poison_is_dead_lettered(intake: Intake) -> None:
    await intake.stack.send(topics.INBOUND, b"\x00garbage", key=b"k")
    await intake.stack.send(topics.INBOUND, json.dumps(make_sms()).encode(), key=b"sms:0903123456")

    async def created() -> list[Any]:
        return [e for e in await intake.events() if e.type == "ticket.created"]

    [event] = await eventually(created, what="the SMS ticket")
    assert event.payload.ticket.channel.value == "sms"
    assert event.payload.ticket.category == "shipping"


async def test_an_outbox_left_by_a_crash_is_published_by_the_sweeper(intake: Intake) -> None:
    ticket_id = (await intake.post(make_inbound()))["ticket_id"]
    db = intake.stack.db(intake.runtime.settings)
    lost = (await intake.events())[0]
    await db.tickets.update_one(
        {"_id": ticket_id},
        {
            "$set": {
                "has_outbox": True,
                "outbox": [
                    {
                        "event_id": "e-lost",
                        "topic": "support.tickets.v1",
                        "key": ticket_id,
                        "body": lost.model_dump_json(),
                    }
                ],
            }
        },
    )
    # The periodic sweeper may get there first; either way the event goes out again.
    assert await intake.service.publishing.sweep_outboxes() in (0, 1)
    events = await intake.events()
    assert len(events) >= 2
    assert {e.event_id for e in events} == {lost.event_id}  # the same id: consumers apply it once
    assert (await db.tickets.find_one({"_id": ticket_id}))["has_outbox"] is False


async def test_every_channel_on_the_inbound_topic_becomes_a_ticket(intake: Intake) -> None:
    for message in EVERY_CHANNEL.values():
        model = json.dumps(message, ensure_ascii=False).encode()
        await intake.stack.send(topics.INBOUND, model, key=message["channel"].encode())

    async def all_created() -> set[str]:
        channels = {
            e.payload.ticket.channel.value
            for e in await intake.events()
            if e.type == "ticket.created"
        }
        return channels if channels == set(EVERY_CHANNEL) else set()

    assert await eventually(all_created, what="a ticket per channel") == set(EVERY_CHANNEL)


async def test_a_new_knowledge_base_article_answers_the_next_question(intake: Intake) -> None:
    article = {
        "language": "vi",
        "title": "Xuất hóa đơn VAT",
        "body": "Bạn có thể yêu cầu hóa đơn VAT trong mục Đơn hàng > Yêu cầu xuất hóa đơn trong 7 ngày.",
        "keywords": ["hóa đơn VAT", "xuất hóa đơn"],
        "questions": ["Làm sao để xuất hóa đơn VAT?", "Tôi muốn lấy hóa đơn VAT"],
    }
    put = await intake.http.put("/v1/kb/articles/vat-invoice-vi", json=article)
    assert put.status_code == 200, put.text
    listed = (await intake.http.get("/v1/kb/articles")).json()
    assert "vat-invoice-vi" in {a["article_id"] for a in listed}
    result = await intake.post(
        make_inbound(
            channel_message_id="<vat@x>", subject="Hóa đơn", text="Làm sao để xuất hoá đơn VAT?"
        )
    )
    ticket = (await intake.ticket(result["ticket_id"]))["ticket"]
    assert ticket["deflected"]
    [reply] = [o.payload for o in await intake.outbound() if o.payload.kind == "auto_reply_faq"]
    assert reply.article_id == "vat-invoice-vi"


async def test_an_unhappy_survey_answer_opens_a_linked_follow_up_ticket_for_a_senior_agent(
    intake: Intake,
) -> None:
    original = (await intake.post(make_inbound()))["ticket_id"]
    followup = SurveyFollowupRequested(
        producer="s8-test",
        payload=SurveyFollowupPayload(
            survey_id="S-1",
            kind="csat",
            ticket_id=original,
            customer_id="C-x",
            score=1,
            comment="Không giải quyết được gì",
            language="vi",
        ),
    )
    for _ in range(2):  # redelivered: still one follow-up ticket
        await intake.stack.send(topics.SURVEYS, followup.to_bytes(), key=b"C-x")

    async def created() -> list[Any]:
        return [
            e
            for e in await intake.events()
            if e.type == "ticket.created" and e.payload.ticket.linked_ticket_id == original
        ]

    [event] = await eventually(created, what="the follow-up ticket")
    ticket = event.payload.ticket
    assert (ticket.priority.value, ticket.tier_required, ticket.classified_by["priority"]) == (
        "high",
        "L2",
        "survey_followup",
    )
    assert "1/5" in event.payload.first_message.text
    assert ticket.contact == "lan.nguyen@example.vn"


async def test_a_bot_conversation_without_handoff_makes_no_ticket_but_is_counted(
    intake: Intake,
) -> None:
    bot = {
        **EVERY_CHANNEL["chatbot"],
        "handoff_requested": False,
        "handoff_reason": None,
        "bot_confidence": 0.93,
    }
    assert (await intake.post(bot))["outcome"] == "skipped"
    assert (await intake.post(bot))["outcome"] == "skipped"
    events = await intake.stack.read_all(topics.TICKETS, TICKET_TOPIC_EVENTS)
    assert [e.type for e in events] == ["bot.conversation_handled"] * 2
    assert len({e.event_id for e in events}) == 1  # the repeat carries the same id
    assert events[0].payload.conversation_id == "chatbot:B-1"
