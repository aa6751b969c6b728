"""The proactive-support demo of `make run`.

At start the CRM tells intake where the demo customers live, what they own and how they
like to be reached (`PUT /v1/customers`). About 15 s in, a support lead declares a payment
gateway outage in Hà Nội (`POST /v1/problems`): intake tells the affected customers before
they write in and links their payment tickets as incidents. The cause is identified ~30 s
later and the problem resolved ~60 s after it was declared (`PATCH /v1/problems/{id}`),
which tells everyone and solves the incidents. A short `--duration` compresses the
timeline; a problem still open when the stack stops is resolved then, so none is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from roster import ROSTER
from traffic import CUSTOMERS

Call = Callable[[str, str, Any], Awaitable[Any]]  # (method, path, JSON body) -> JSON answer
Say = Callable[[str], None]

LEAD: str = next(member["agent_id"] for member in ROSTER if member.get("lead"))
HA_NOI, HCMC = "Hà Nội", "TP. Hồ Chí Minh"
WATER_PURIFIER = "Máy lọc nước AquaPure X2"
AIR_PURIFIER = "Máy lọc không khí AirPure A1"

# What the CRM knows about each demo customer (by email), beyond name and language.
CRM: dict[str, dict[str, Any]] = {
    "lan.nguyen@example.vn": {
        "region": HA_NOI,
        "products": [WATER_PURIFIER],
        "preferred_channel": "sms",
    },
    "minh.tran@example.vn": {"region": HCMC},
    "hoanganh.le@example.com.vn": {"region": HA_NOI, "tier": "vip"},
    "ha.pham@example.vn": {"region": HCMC, "products": [WATER_PURIFIER]},
    "huy.do@example.vn": {"region": HA_NOI},
    "emily.carter@example.com": {
        "region": HA_NOI,
        "products": [AIR_PURIFIER],
        "preferred_channel": "email",
    },
    "david.nguyen@example.com": {"region": HCMC, "products": [AIR_PURIFIER]},
    "sarah.lim@example.sg": {"region": HCMC},
}

DECLARATION: dict[str, Any] = {
    "title": {
        "vi": "Cổng thanh toán gián đoạn tại Hà Nội",
        "en": "Payment gateway outage in Hà Nội",
    },
    "description": {
        "vi": "Một số giao dịch thanh toán bằng thẻ và ví điện tử tại Hà Nội bị lỗi hoặc bị "
        "trừ tiền hai lần. Khoản trừ trùng sẽ được hoàn tự động.",
        "en": "Some card and e-wallet payments in Hà Nội fail or are charged twice. "
        "Duplicate charges will be refunded automatically.",
    },
    "segment": {"regions": [HA_NOI]},
    "keywords": ["thanh toán", "trừ tiền", "gián đoạn", "payment", "payments", "outage"],
    "incident_routing": "vip",
    "declared_by": LEAD,
}
IDENTIFIED: dict[str, Any] = {
    "status": "identified",
    "message": {
        "vi": "Nguyên nhân là lỗi kết nối với ngân hàng xử lý thẻ; chúng tôi đang khắc phục.",
        "en": "The cause is a failing link to the card-processing bank; a fix is under way.",
    },
    "updated_by": LEAD,
}
RESOLVED: dict[str, Any] = {
    "status": "resolved",
    "message": {
        "vi": "Thanh toán đã hoạt động bình thường. Khoản trừ trùng được hoàn trong 3 ngày làm việc.",
        "en": "Payments work again. Duplicate charges are refunded within 3 working days.",
    },
    "updated_by": LEAD,
}


def customer_profiles(run_id: str) -> list[dict[str, Any]]:
    """One `PUT /v1/customers` body per demo customer of the generated traffic."""
    return [
        {
            "upsert_id": f"demo-crm-{run_id}-{email}",
            "identities": [{"kind": "email", "value": email}, {"kind": "phone", "value": phone}],
            "name": name,
            "language": language,
            **CRM.get(email, {}),
        }
        for name, email, phone, language in CUSTOMERS
    ]


async def load_crm(call: Call) -> int:
    """Gives the demo customers their CRM attributes; returns how many are in Hà Nội."""
    profiles = customer_profiles(uuid.uuid4().hex[:12])
    for profile in profiles:
        await call("PUT", "/v1/customers", profile)
    return sum(1 for p in profiles if p.get("region") == HA_NOI)


@dataclass(frozen=True)
class Timeline:
    """Seconds after the stack started."""

    declare: float
    update: float
    resolve: float


def timeline(duration: float) -> Timeline:
    """15 s, 45 s and 75 s; compressed so that a run of `duration` seconds (0: until
    Ctrl-C) resolves the problem at about 80% of it."""
    fixed = Timeline(15.0, 45.0, 75.0)
    scale = min(1.0, 0.8 * duration / fixed.resolve) if duration else 1.0
    return Timeline(fixed.declare * scale, fixed.update * scale, fixed.resolve * scale)


async def run_problem(
    call: Call, stop: asyncio.Event, started: float, duration: float, say: Say
) -> None:
    """Declares, updates and resolves the demo problem on `timeline(duration)`."""
    plan = timeline(duration)

    async def reached(at: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, started + at - time.monotonic()))
        return not stop.is_set()

    if not await reached(plan.declare):
        return
    problem = await call("POST", "/v1/problems", DECLARATION)
    problem_id = problem["problem_id"]
    say(
        f"==> lead {LEAD} declared problem {problem_id} ({HA_NOI} payments): Hà Nội customers"
        " are told, their payment tickets become incidents"
    )
    try:
        if await reached(plan.update):
            await call("PATCH", f"/v1/problems/{problem_id}", IDENTIFIED)
            say(f"==> lead {LEAD} updated problem {problem_id}: cause identified")
        await reached(plan.resolve)
    finally:  # also when the stack stops early: no demo problem is left open
        await call("PATCH", f"/v1/problems/{problem_id}", RESOLVED)
        details = await call("GET", f"/v1/problems/{problem_id}", None)
        notices = ", ".join(f"{kind} {n}" for kind, n in sorted(details["notices"].items()))
        say(
            f"==> lead {LEAD} resolved problem {problem_id}: {len(details['incidents'])}"
            f" incidents solved, everyone told (notices so far: {notices or 'none'})"
        )
