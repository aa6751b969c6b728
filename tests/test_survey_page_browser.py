"""The survey page in a real headless Chromium (Debian's package): open the link, pick a
score, comment, submit, see the thank-you page; the reused and the tampered link are
refused. Screenshots are saved in test-artifacts/ for a person to look at."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright

from s8_shared import topics
from s8_shared.contracts import SURVEY_EVENTS, utcnow
from s8_survey.settings import SurveySettings
from s8_testing.builders import make_ticket_created
from s8_testing.harness import TestStack, chromium, eventually

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_survey(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "s8_survey"],
        env={**os.environ, **env, "S8_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_a_customer_answers_the_survey_in_a_real_browser(stack: TestStack) -> None:
    port = free_port()
    settings = stack.settings(
        SurveySettings,
        csat_delay_seconds=0,
        answer_grace_minutes=0,
        http_port=port,
        public_base_url=f"http://127.0.0.1:{port}",
    )
    service = start_survey(stack.env(settings))
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        solved = make_ticket_created(
            ticket_id="T-web",
            customer_id="C-web",
            status="solved",
            agent_replies=1,
            version=3,
            contact_channel="email",
            contact="lan.nguyen@example.vn",
        ).model_copy(update={"occurred_at": utcnow()})
        await stack.send(topics.TICKETS, solved.to_bytes(), key=b"T-web")

        async def csat_link() -> str:
            for event in await stack.read_all(topics.SURVEYS, SURVEY_EVENTS):
                if event.type == "survey.requested" and event.payload.kind == "csat":
                    return str(event.payload.link)
            return ""

        link = await eventually(csat_link, within=60, what="the CSAT link")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            response = await page.goto(link)
            assert response is not None
            assert response.status == 200
            await page.screenshot(path=str(ARTIFACTS / "survey-form.png"), full_page=True)
            await page.get_by_label("4 – Hài lòng").check(force=True)
            await page.get_by_label("Góp ý thêm (không bắt buộc)").fill(
                "Nhân viên hỗ trợ nhanh, cảm ơn!"
            )
            await page.get_by_role("button", name="Gửi đánh giá").click()
            await page.wait_for_load_state()
            assert await page.get_by_role("status").inner_text() == "Cảm ơn bạn đã đánh giá!"
            await page.screenshot(path=str(ARTIFACTS / "survey-thanks.png"), full_page=True)

            reused = await page.goto(link)
            assert reused is not None
            assert reused.status == 409
            assert "đã được trả lời" in await page.get_by_role("alert").inner_text()
            await page.screenshot(path=str(ARTIFACTS / "survey-reused.png"), full_page=True)

            tampered = await page.goto(link[:-4] + "abcd")
            assert tampered is not None
            assert tampered.status == 403
            assert "không hợp lệ" in await page.get_by_role("alert").inner_text()
            await page.screenshot(path=str(ARTIFACTS / "survey-tampered.png"), full_page=True)
            await browser.close()

        async def answered() -> list[Any]:
            return [
                e
                for e in await stack.read_all(topics.SURVEYS, SURVEY_EVENTS)
                if e.type == "survey.responded"
            ]

        [answer] = await eventually(answered, what="the answer event")
        assert (answer.payload.score, answer.payload.comment) == (
            4,
            "Nhân viên hỗ trợ nhanh, cảm ơn!",
        )
    finally:
        service.send_signal(signal.SIGTERM)
        await asyncio.to_thread(service.wait, 30)
