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
        subject, template = self.rng.choice(MESSAGES[lang])
        text = template.format(order=f"A{self.rng.randint(1000, 9999)}")
        sender = {
            "email": email,
            "web_form": email,
            "phone": phone,
            "sms": phone,
            "social": f"fb:{zlib.crc32(email.encode()) % 10**10}",
            "live_chat": f"visitor-{zlib.crc32(email.encode()) % 10**6}",
            "chatbot": f"visitor-{zlib.crc32(email.encode()) % 10**6}",
            "on_site": phone,
        }[channel]
        message: dict[str, Any] = {
            "channel": channel,
            "channel_message_id": f"{channel}-{uuid.uuid4()}",
            "sender_id": sender,
            "sender_name": name,
            "text": text,
            "received_at": datetime.now(UTC).isoformat(),
        }
        if channel in ("email", "web_form"):
            message["subject"] = subject
        if channel == "email":
            message["message_id_header"] = f"<{uuid.uuid4().hex}@mail.example.vn>"
        if channel == "social":
            message["platform"] = self.rng.choice(["facebook", "zalo"])
        if channel == "phone":
            message["ivr_path"] = self.rng.choice(["1", "1-2", "2", "3-1"])
        value = json.dumps(message, ensure_ascii=False).encode()
        return Outgoing(f"{channel}:{sender}".encode(), value, "message")

    def _malformed(self) -> Outgoing:
        broken = self.rng.choice(
            [
                b'{"channel": "fax", "text": "xin chao"}',
                b"<html>502 Bad Gateway</html>",
                json.dumps({"channel": "email", "sender_id": "x@example.vn", "text": ""}).encode(),
            ]
        )
        return Outgoing(b"broken", broken, "malformed")
