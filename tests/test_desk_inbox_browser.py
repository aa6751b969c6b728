"""The agents' web inbox in a real headless Chromium (Debian's package), on the real broker,
store and provider: an agent signs in on Keycloak's login page (authorization code with
PKCE, in the page's own script), goes online, sees a customer's e-mail arrive live in
"mine", opens it with the keyboard, answers (the reply goes out on support.outbound.v1),
loses the connection and gets what the customer wrote meanwhile once it is back
(Last-Event-ID), offers a refund above their limit, solves the ticket and sees the first
response clock met, then reads it all in English on a phone-sized screen; a lead, on a
phone, approves the refund the live stream told them about and signs out. Screenshots are
saved in test-artifacts/ for a person to look at."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from keycloak.realms import TEST_INBOX_PORT  # deploy/local is on the test path
from playwright.async_api import Page, async_playwright, expect

from s8_desk.app import build as build_desk
from s8_desk.settings import DeskSettings
from s8_intake.app import build as build_intake
from s8_intake.settings import IntakeSettings
from s8_router.app import build as build_router
from s8_router.settings import RouterSettings
from s8_shared import topics
from s8_shared.contracts import OUTBOUND_EVENTS, AgentProfile
from s8_shared.contracts.compensation import COMPENSATION_EVENTS
from s8_sla_monitor.app import build as build_sla
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_testing.builders import make_inbound
from s8_testing.harness import TestStack, chromium, eventually, serving, started
from s8_testing.tokens import DEMO_PASSWORD, DESK_CLIENT

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ORIGIN = f"http://127.0.0.1:{TEST_INBOX_PORT}"
INBOX = f"{ORIGIN}/inbox"
LIVE_MS = 60_000  # the pipeline: intake, router, SLA monitor and desk over the real broker
SUBJECT = "Hoàn tiền đơn #A1023"
AGENT = AgentProfile.model_validate(
    {"agent_id": "agent-1", "name": "Agent One", "team": "billing", "tier": "L2",
     "skills": {"billing": 4, "warranty": 3, "shipping": 3}, "languages": ["vi", "en"],
     "capacity": {"chat": 2, "email": 3, "phone": 1, "on_site": 0},
     "presence": "away"}  # goes online in the page
)  # fmt: skip
LEAD = AgentProfile.model_validate(
    {"agent_id": "lead-1", "name": "Lead One", "team": "billing", "tier": "L3", "lead": True,
     "presence": "offline"}
)  # fmt: skip
# Every visible control with no name a screen reader could announce.
UNLABELLED = """() => [...document.querySelectorAll("button, input, select, textarea, a[href]")]
  .filter((n) => n.getClientRects().length > 0)
  .filter((n) => !(n.labels && n.labels.length) && !n.getAttribute("aria-label")
    && !n.getAttribute("aria-labelledby") && !n.textContent.trim())
  .map((n) => n.outerHTML.slice(0, 120))"""


class Cable:
    """The agents' way to the desk, as a load balancer in front of it would be: a TCP relay
    on the inbox's port (the provider lets the page call its token endpoint only from origins
    its realm lists, port included: deploy/local/keycloak/realms.py). Unplugged, every open
    connection drops and new ones are refused until it is plugged in again."""

    def __init__(self, desk: str) -> None:
        self.desk_port = int(desk.rsplit(":", 1)[1])
        self.plugged = True
        self.open: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[Any]] = set()

    async def relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.plugged:
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        desk_reader, desk_writer = await asyncio.open_connection("127.0.0.1", self.desk_port)
        self.open |= {writer, desk_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65_536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        try:
            await asyncio.gather(pipe(reader, desk_writer), pipe(desk_reader, writer))
        finally:
            self.open -= {writer, desk_writer}
            self.tasks.discard(task)

    def unplug(self) -> None:
        self.plugged = False
        for writer in list(self.open):
            writer.transport.abort()

    def plug(self) -> None:
        self.plugged = True


@contextlib.asynccontextmanager
async def cable_to(desk: str, port: int) -> AsyncIterator[Cable]:
    cable = Cable(desk)
    try:
        server = await asyncio.start_server(cable.relay, "127.0.0.1", port)
    except OSError as taken:
        pytest.fail(f"the inbox's browser test needs port {port} ({ORIGIN}): {taken}")
    try:
        yield cable
    finally:
        cable.unplug()
        server.close()
        await asyncio.gather(*cable.tasks, return_exceptions=True)
        await server.wait_closed()


async def provider_allows_the_inbox(issuer: str) -> bool:
    """The running provider answers the inbox's origin with CORS headers: its realm is the
    one deploy/local/keycloak/realms.py writes (Keycloak imports realms only at start)."""
    form = {"grant_type": "password", "client_id": DESK_CLIENT, "username": "agent-1",
            "password": DEMO_PASSWORD, "scope": "openid"}  # fmt: skip
    async with httpx.AsyncClient(timeout=30) as client:
        reply = await client.post(
            f"{issuer}/protocol/openid-connect/token", data=form, headers={"Origin": ORIGIN}
        )
    allowed: str | None = reply.headers.get("access-control-allow-origin")
    return allowed == ORIGIN


async def sign_in(page: Page, username: str) -> None:
    """Through the provider's own login page, as a person does."""
    await page.goto(INBOX)
    await page.get_by_role("button", name="Đăng nhập", exact=True).click()
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(DEMO_PASSWORD)
    await page.locator("#kc-login").click()
    await expect(page.get_by_text(f"({username})")).to_be_visible(timeout=30_000)
    assert "code=" not in page.url  # the code is gone from the address bar once used


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"inbox-{name}.png"), full_page=True)


def watch(page: Page, errors: list[str]) -> None:
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))


async def test_an_agent_answers_and_solves_live_in_a_real_browser_and_a_lead_approves_a_refund(
    stack: TestStack,
) -> None:
    if not await provider_allows_the_inbox(stack.infra.oidc_issuer):
        pytest.fail(
            f"the running Keycloak does not let {ORIGIN} call its token endpoint: its realms "
            "predate deploy/local/keycloak/realms.py (they are imported at start). "
            "`.venv/bin/python deploy/local/keycloak/realms.py --apply` updates them in place."
        )
    ARTIFACTS.mkdir(exist_ok=True)
    intake_settings = stack.settings(IntakeSettings)
    intake, intake_app = build_intake(intake_settings)
    router_settings = stack.settings(RouterSettings)
    router, router_app = build_router(router_settings)
    errors: list[str] = []
    async with contextlib.AsyncExitStack() as running:
        intake_url = await running.enter_async_context(serving(intake_app))
        router_url = await running.enter_async_context(serving(router_app))
        desk_settings = stack.settings(
            DeskSettings,
            stream_poll_seconds=0.1,
            intake_url=intake_url,
            router_url=router_url,
        )
        desk, desk_app = build_desk(desk_settings)
        for runtime in (intake, router, build_sla(stack.settings(SlaMonitorSettings))[0], desk):
            await running.enter_async_context(started(runtime))
        desk_url = await running.enter_async_context(serving(desk_app))
        cable = await running.enter_async_context(cable_to(desk_url, TEST_INBOX_PORT))
        for profile in (AGENT, LEAD):
            await stack.send(topics.AGENTS, profile.model_dump_json().encode(), key=profile.agent_id.encode())  # fmt: skip
        for settings in (router_settings, desk_settings, intake_settings):
            await stack.caught_up(settings, topics.AGENTS)
        canned = {"language": "vi", "title": "Đã hoàn tiền", "text": "Chào {{customer_name}}, chúng tôi đã hoàn tiền hôm nay ({{ticket_id}})."}  # fmt: skip
        async with httpx.AsyncClient(base_url=desk_url, timeout=30) as client:
            written = await client.put("/v1/canned/refund-done", json=canned, headers=await stack.tokens.headers_for("lead-1"))  # fmt: skip
            assert written.status_code == 200, written.text

        pw = await running.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        running.push_async_callback(browser.close)
        agent = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()  # fmt: skip
        lead = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()  # a phone  # fmt: skip
        watch(agent, errors)
        watch(lead, errors)

        # Signing in: the provider's login page, back to the inbox with a code for this tab.
        await agent.goto(INBOX)
        await expect(agent.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        await shot(agent, "sign-in")
        await sign_in(agent, "agent-1")
        switch = agent.get_by_label("Trạng thái của tôi")
        await expect(switch).to_have_value("away")  # as the router last published it
        await switch.select_option("online")
        await expect(agent.get_by_role("status")).to_have_text("Trạng thái: Trực tuyến")
        await sign_in(lead, "lead-1")
        await expect(lead.get_by_role("link", name="Chờ duyệt 0")).to_be_visible()  # leads only
        await expect(agent.get_by_role("link", name=re.compile("^Chờ duyệt"))).to_have_count(0)

        async def both_listening() -> bool:
            return bool(desk_app.state.hub.connections() == 2)

        await eventually(both_listening, what="the agent's and the lead's live streams")

        # A customer writes: the ticket shows up in "mine" without a reload.
        await stack.send(topics.INBOUND, json.dumps(make_inbound(), ensure_ascii=False).encode(), key=b"email:lan")  # fmt: skip
        card = agent.get_by_role("link", name=re.compile(re.escape(SUBJECT)))
        await expect(card).to_be_visible(timeout=LIVE_MS)
        await expect(agent.get_by_role("link", name="Của tôi 1")).to_be_visible(timeout=LIVE_MS)
        await shot(agent, "mine")

        # Opened with the keyboard: the whole story of the ticket.
        await card.focus()
        await agent.keyboard.press("Enter")
        await expect(agent.get_by_role("heading", name=SUBJECT, level=2)).to_be_focused()
        ticket_id = re.sub(r"^#ticket=", "", await agent.evaluate("location.hash"))
        first_response = agent.locator("#clocks li", has_text="Phản hồi đầu tiên")
        await expect(first_response).to_contain_text("đang chạy", timeout=LIVE_MS)
        await expect(first_response.locator("[data-due]")).to_have_text(re.compile(r"^còn \d"))
        await expect(agent.locator("#conversation")).to_contain_text("chưa nhận được hoàn tiền")
        await expect(agent.locator("#customer")).to_contain_text("Nguyễn Thị Lan")
        await expect(agent.locator("#routing")).to_contain_text("Đã giao → agent-1")
        assert await agent.evaluate(UNLABELLED) == []
        await shot(agent, "ticket")

        # The agent answers with a canned reply, filled in for this ticket and customer, and
        # sends it: the reply leaves on support.outbound.v1.
        picker = agent.get_by_label("Trả lời mẫu")
        await picker.focus()
        await expect(picker.locator("option", has_text="Đã hoàn tiền")).to_have_count(1)
        await picker.select_option(label="Đã hoàn tiền")
        filled = f"Chào Nguyễn Thị Lan, chúng tôi đã hoàn tiền hôm nay ({ticket_id})."
        await expect(agent.get_by_label("Trả lời khách hàng")).to_have_value(filled)
        await agent.get_by_role("button", name="Gửi trả lời").click()
        await expect(agent.get_by_role("status")).to_have_text(f"Đã gửi trả lời cho {ticket_id}.")

        async def replied() -> list[Any]:
            sent = await stack.read_all(topics.OUTBOUND, OUTBOUND_EVENTS)
            return [e for e in sent if e.payload.ticket_id == ticket_id and "hoàn tiền hôm nay" in e.payload.text]  # fmt: skip

        await eventually(replied, what="the reply on support.outbound.v1")
        await expect(agent.locator("#conversation")).to_contain_text(filled, timeout=LIVE_MS)

        # The connection drops: what came meanwhile arrives once it is back (Last-Event-ID).
        reopened: list[str] = []
        agent.on("request", lambda r: reopened.append(r.headers.get("last-event-id", "")) if r.url.endswith("/v1/stream") else None)  # fmt: skip
        last_seen = await agent.evaluate("sessionStorage.getItem('s8.inbox.last-event.agent-1')")
        last_seen = await agent.evaluate("sessionStorage.getItem('s8.inbox.last-event.agent-1')")
        cable.unplug()
        await expect(agent.locator("#live")).to_have_text("○ Đang kết nối lại…", timeout=30_000)
        again = make_inbound(channel_message_id="<m2@example.vn>", in_reply_to="<m1@example.vn>", text="Khi nào tôi nhận được tiền?")  # fmt: skip
        await stack.send(topics.INBOUND, json.dumps(again, ensure_ascii=False).encode(), key=b"email:lan")  # fmt: skip

        async def kept_for_later() -> bool:
            stored = await desk_app.state.hub.store.notices_for("agent-1", 0, 50)
            return any(n.kind == "customer_answered" for n in stored)

        await eventually(kept_for_later, what="the customer's answer kept while the agent is away")
        cable.plug()
        await expect(agent.get_by_role("status")).to_have_text(f"Khách hàng vừa trả lời: {ticket_id}", timeout=LIVE_MS)  # fmt: skip
        await expect(agent.locator("#live")).to_have_text("● Trực tiếp")
        assert last_seen.isdigit()
        assert reopened[-1] == last_seen, reopened  # from the last notice it had received
        await expect(agent.locator("#conversation")).to_contain_text("Khi nào tôi nhận được tiền?", timeout=LIVE_MS)  # fmt: skip

        # A refund above an L2 agent's 2,000,000 VND per offer waits for a lead.
        await agent.get_by_label("Hình thức").select_option("refund")
        await agent.get_by_label("Số tiền (VND)").fill("3000000")
        await agent.get_by_label("Lý do bồi thường").fill("Hoàn tiền trễ 10 ngày")
        await agent.get_by_role("button", name="Gửi đề nghị").click()
        await expect(agent.locator("#offers")).to_contain_text("chờ trưởng nhóm duyệt", timeout=LIVE_MS)  # fmt: skip

        # The lead, on a phone, hears of it live and approves it.
        approve = lead.get_by_role("button", name=re.compile(f"^Duyệt: Hoàn tiền .* · agent-1 · {ticket_id}$"))  # fmt: skip
        await expect(approve).to_be_visible(timeout=LIVE_MS)
        # Opened again after the request (no notice this time): the approvals view has it.
        await lead.reload()
        await expect(approve).to_be_visible(timeout=LIVE_MS)
        await expect(lead.get_by_role("link", name="Chờ duyệt 1")).to_be_visible(timeout=LIVE_MS)
        assert await lead.evaluate(UNLABELLED) == []
        await shot(lead, "lead-approvals-phone")
        await approve.click()
        await expect(lead.get_by_role("status")).to_contain_text("Đã duyệt đề nghị")
        await expect(approve).to_be_hidden()

        async def approved() -> list[Any]:
            events = await stack.read_all(topics.TICKETS, COMPENSATION_EVENTS)
            return [e for e in events if e.payload.offer.status == "approved" and e.payload.offer.decided_by == "lead-1"]  # fmt: skip

        await eventually(approved, what="the refund approved by lead-1")
        await lead.get_by_role("button", name="Đăng xuất").click()  # the provider's session too
        await expect(lead.get_by_role("button", name="Đăng nhập", exact=True)).to_be_visible(timeout=30_000)  # fmt: skip
        assert lead.url == INBOX
        await lead.get_by_role("button", name="Đăng nhập", exact=True).click()
        await expect(lead.locator("#password")).to_be_visible()  # asked again: no session left
        await expect(agent.locator("#offers")).to_contain_text("đã duyệt", timeout=LIVE_MS)

        # Solved: the first response clock shows met.
        await agent.get_by_label("Trạng thái phiếu").select_option("solved")
        await agent.get_by_role("button", name="Cập nhật trạng thái").click()
        await expect(agent.locator("#ticket-meta")).to_contain_text("Đã giải quyết", timeout=LIVE_MS)  # fmt: skip
        await expect(first_response).to_contain_text("đã đạt", timeout=LIVE_MS)
        await shot(agent, "solved")

        # The same page in English, and on a phone-sized screen without sideways scrolling.
        await agent.get_by_label("Ngôn ngữ").select_option("en")
        await expect(agent.get_by_role("heading", name="Conversation")).to_be_visible()
        await expect(agent.locator("#clocks li", has_text="First response")).to_contain_text("met")
        assert await agent.evaluate("document.documentElement.lang") == "en"
        await shot(agent, "solved-en")
        await agent.set_viewport_size({"width": 390, "height": 844})
        assert await agent.evaluate("document.documentElement.scrollWidth <= innerWidth")
        await shot(agent, "solved-en-phone")

        # A reload keeps this tab's session (no new sign-in) and resumes the stream.
        reopened.clear()
        await agent.reload()
        await expect(agent.get_by_text("(agent-1)")).to_be_visible()
        await expect(agent.locator("#live")).to_have_text("● Live", timeout=30_000)
        assert reopened[-1].isdigit(), reopened
    assert errors == []
