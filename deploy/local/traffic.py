"""Realistic customer traffic for the local stack: Vietnamese and English messages over
every channel, with the occasional re-sent message and a malformed one, as real
integrations produce."""

from __future__ import annotations

import json
import random
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

CUSTOMERS = [
    ("Nguyễn Thị Lan", "lan.nguyen@example.vn", "0903123456", "vi"),
    ("Trần Văn Minh", "minh.tran@example.vn", "0912345678", "vi"),
    ("Lê Hoàng Anh", "hoanganh.le@example.com.vn", "0987654321", "vi"),
    ("Phạm Thu Hà", "ha.pham@example.vn", "0934567890", "vi"),
    ("Đỗ Quang Huy", "huy.do@example.vn", "0978111222", "vi"),
    ("Emily Carter", "emily.carter@example.com", "+6591234567", "en"),
    ("David Nguyen", "david.nguyen@example.com", "+14155550123", "en"),
    ("Sarah Lim", "sarah.lim@example.sg", "+6598765432", "en"),
]

MESSAGES = {
    "vi": [
        (
            "Hoàn tiền đơn hàng",
            "Tôi đã trả hàng từ tuần trước nhưng vẫn chưa nhận được hoàn tiền cho đơn #{order}. Xin hỗ trợ gấp!",
        ),
        (
            "Giao hàng chậm",
            "Đơn hàng #{order} của tôi đã quá hạn giao 3 ngày mà chưa thấy đâu. Shop kiểm tra giúp mình với.",
        ),
        (
            "Không đăng nhập được",
            "Mình không đăng nhập được vào ứng dụng, cứ báo lỗi mật khẩu dù đã đổi mật khẩu rồi.",
        ),
        (
            "Bảo hành máy lọc nước",
            "Máy lọc nước mua tháng trước bị rò nước, tôi muốn yêu cầu kỹ thuật viên đến kiểm tra tại nhà.",
        ),
        (
            "Thanh toán bị trừ tiền hai lần",
            "Tài khoản của tôi bị trừ tiền hai lần cho cùng một đơn hàng #{order}. Đây có phải lừa đảo không?",
        ),
        (
            "Hỏi về khuyến mãi",
            "Cho mình hỏi chương trình giảm giá 20% còn áp dụng cho khách hàng mới không ạ?",
        ),
        (
            "Khan cap",
            "Dich vu bi gian doan tu sang den gio, khan cap, cong ty toi khong lam viec duoc!",
        ),
        (
            "Đổi địa chỉ giao hàng",
            "Mình muốn đổi địa chỉ giao hàng cho đơn #{order} sang quận Cầu Giấy, Hà Nội.",
        ),
    ],
    "en": [
        (
            "Refund not received",
            "I returned my order #{order} two weeks ago and still have not received my refund.",
        ),
        (
            "App keeps crashing",
            "The mobile app crashes every time I open the payment page. Please help, this is urgent.",
        ),
        (
            "Where is my order?",
            "My order #{order} was supposed to arrive on Monday. Can you tell me where it is?",
        ),
        (
            "Warranty claim",
            "My air purifier stopped working after one month. How do I make a warranty claim?",
        ),
        (
            "Outage",
            "Your service has been down for an hour, we cannot process any payments. Outage?",
        ),
        (
            "Question about pricing",
            "Do you offer a discount for annual plans for small businesses?",
        ),
    ],
}

# Questions the knowledge base answers: they should be deflected by a FAQ auto-reply.
FAQ_QUESTIONS = {
    "vi": [
        ("Quên mật khẩu", "Làm sao để đổi mật khẩu tài khoản của tôi?"),
        ("Theo dõi đơn", "Cho mình hỏi cách theo dõi đơn hàng ở đâu?"),
    ],
    "en": [
        ("Reset password", "How do I reset my password?"),
        ("Opening hours", "What are your opening hours?"),
    ],
}

CHANNELS = ["email", "live_chat", "social", "phone", "sms", "web_form", "chatbot", "on_site"]
CHANNEL_WEIGHTS = [30, 25, 15, 10, 5, 8, 5, 2]


@dataclass
class Outgoing:
    key: bytes
    value: bytes
    kind: str  # "message", "resend" or "malformed"


class TrafficGenerator:
    def __init__(self, seed: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.recent: list[Outgoing] = []

    def next(self) -> Outgoing:
        roll = self.rng.random()
        if roll < 0.04 and self.recent:
            # An integration retrying a send it thought had failed: same channel message id.
            again = self.rng.choice(self.recent)
            return Outgoing(again.key, again.value, "resend")
        if roll < 0.06:
            return self._malformed()
        out = self._message()
        self.recent = [*self.recent[-50:], out]
        return out

    def _message(self) -> Outgoing:
        name, email, phone, lang = self.rng.choice(CUSTOMERS)
        channel = self.rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        subject, template = self.rng.choice(MESSAGES[lang] + FAQ_QUESTIONS[lang])
        text = template.format(order=f"A{self.rng.randint(1000, 9999)}")
        uid = uuid.uuid4().hex
        visitor = f"visitor-{zlib.crc32(email.encode()) % 10**6}"
        now = datetime.now(UTC).isoformat()
        msg: dict[str, Any] = {"channel": channel, "received_at": now}
        if channel == "email":
            msg.update(
                channel_message_id=f"<{uid}@mail.example.vn>",
                to=[{"address": "support@s8.example.vn"}],
                subject=subject,
                text=text,
                x_mailer="Thunderbird",
            )
            msg["from"] = {"address": email, "name": name}
            if self.rng.random() < 0.05:  # an out-of-office answer: must make no ticket
                msg["headers"] = {"Auto-Submitted": "auto-replied"}
                msg["subject"] = "Trả lời tự động: " + subject
        elif channel == "live_chat":
            msg.update(
                channel_message_id=f"chat-{uid}",
                session_id=f"S-{zlib.crc32(email.encode()) % 10**5}",
                visitor_id=visitor,
                visitor_name=name,
                page_url="https://shop.example.vn/don-hang",
                text=text,
            )
            if self.rng.random() < 0.3:  # the visitor leaves an email: one customer across channels
                msg["visitor_email"] = email
        elif channel == "social":
            platform = self.rng.choice(["facebook", "zalo"])
            msg.update(
                channel_message_id=f"{platform}-{uid}",
                platform=platform,
                page_id="s8shop",
                sender_id=f"{zlib.crc32(email.encode()) % 10**10}",
                sender_name=name,
                thread_id=f"t-{zlib.crc32(email.encode()) % 10**6}",
                kind=self.rng.choice(["private_message", "private_message", "public_comment"]),
                text=text,
            )
        elif channel == "phone":
            missed = self.rng.random() < 0.3
            msg.update(
                channel_message_id=f"call-{uid}",
                caller_number=phone,
                caller_name=name,
                dialled_line="19001234",
                ivr_path=self.rng.choice(["1", "1-2", "2", "3", "3-1"]),
                duration_seconds=0 if missed else self.rng.randint(40, 900),
                missed=missed,
                voicemail_transcript=text if missed else None,
                notes=None if missed else text,
            )
        elif channel == "sms":
            msg.update(
                channel_message_id=f"sms-{uid}", from_number=phone, to_number="8088", text=text
            )
        elif channel == "web_form":
            msg.update(
                channel_message_id=f"form-{uid}",
                form_id="contact",
                name=name,
                email=email,
                phone=phone,
                category=self.rng.choice(["billing", "technical", "shipping", None]),
                subject=subject,
                text=text,
            )
        elif channel == "chatbot":
            handoff = self.rng.random() < 0.6
            msg.update(
                channel_message_id=f"bot-{uid}",
                bot_conversation_id=f"B-{uid[:8]}",
                visitor_id=visitor,
                visitor_name=name,
                text=text,
                transcript=[
                    {"author": "customer", "text": text},
                    {
                        "author": "bot",
                        "text": "Mình có thể giúp gì thêm cho bạn?"
                        if lang == "vi"
                        else "How else can I help?",
                    },
                ],
                handoff_requested=handoff,
                handoff_reason="customer asked for a human" if handoff else None,
                bot_confidence=round(self.rng.uniform(0.2, 0.95), 2),
            )
        else:  # on_site
            msg.update(
                channel_message_id=f"visit-{uid}",
                name=name,
                phone=phone,
                email=email,
                address=self.rng.choice(["12 Trần Duy Hưng, Cầu Giấy", "45 Nguyễn Huệ, Quận 1"]),
                region=self.rng.choice(["Hà Nội", "TP. Hồ Chí Minh"]),
                asset_model="Máy lọc nước AquaPure X2",
                serial_number=f"AP{self.rng.randint(100000, 999999)}",
                text=text,
            )
        value = json.dumps(
            {k: v for k, v in msg.items() if v is not None}, ensure_ascii=False
        ).encode()
        key = f"{channel}:{email}".encode()
        return Outgoing(key, value, "message")

    def _malformed(self) -> Outgoing:
        broken = self.rng.choice(
            [
                b'{"channel": "fax", "text": "xin chao"}',
                b"<html>502 Bad Gateway</html>",
                json.dumps(
                    {"channel": "sms", "channel_message_id": "x", "from_number": "0903", "text": ""}
                ).encode(),
            ]
        )
        return Outgoing(b"broken", broken, "malformed")
