"""What one inbound message costs intake in CPU, for the worst inputs the contracts accept.

Each input goes through intake's pure work for a message, as the service does it: the
contract (`parse_inbound`), normalization (HTML to text, quoted replies), sentiment,
classification and FAQ matching. Two sources of inputs:

- a corpus of hand-made worst cases (repeated negators, nested and flat HTML, quoted-reply
  look-alikes, keyword look-alikes, every field at its limit);
- a fuzzer (hypothesis, guided by `target()` towards the slowest inputs) composing texts
  of lexicon words, negators, HTML fragments, quote markers and Vietnamese letters, up to
  the contracts' limits.

Prints the worst inputs and their CPU milliseconds (process time, best of 3 to damp the
noise of a shared machine) against the goal: no accepted input costs more than 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings, target
from hypothesis import strategies as st
from pydantic import ValidationError

from s8_intake.adapters.data_files import DEFAULT_ARTICLES_PATH, load_articles
from s8_intake.domain import faq
from s8_intake.domain.normalize import normalize
from s8_intake.selfservice import SelfService, SelfServiceConfig
from s8_shared.contracts import CustomerTier
from s8_shared.contracts.inbound import MAX_HTML_CHARS, MAX_TEXT_CHARS, parse_inbound

GOAL_MS = 50.0
SERVICE = SelfService(SelfServiceConfig(), load_articles(DEFAULT_ARTICLES_PATH))


def intake_work(message: dict[str, Any]) -> None:
    """Intake's CPU work for one message (the same calls, once each, as accepting it)."""
    msg = normalize(parse_inbound(message))
    mood = SERVICE.sentiment(msg.text)
    classification = SERVICE.classify(msg, CustomerTier.STANDARD, mood)
    faq.match(msg.text, SERVICE.articles, classification.language, threshold=0.72)


def cpu_ms(message: dict[str, Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        intake_work(message)
        best = min(best, time.process_time() - t0)
    return best * 1000


def sms(text: str) -> dict[str, Any]:
    return {"channel": "sms", "channel_message_id": "m-1", "from_number": "0912345678", "text": text}  # fmt: skip


def email(html: str | None = None, text: str | None = None, subject: str = "") -> dict[str, Any]:
    return {
        "channel": "email",
        "channel_message_id": "<m-1@example.vn>",
        "from": {"address": "lan@example.vn"},
        "subject": subject,
        "text": text,
        "html": html,
    }


def fill(unit: str, limit: int) -> str:
    return (unit * (limit // len(unit) + 1))[:limit]


N, H = MAX_TEXT_CHARS, MAX_HTML_CHARS
CORPUS: dict[str, dict[str, Any]] = {
    "sms: 'tệ k ' repeated": sms(fill("tệ k ", N)),
    "sms: negator + intensifier + term": sms(fill("không rất hài lòng ", N)),
    "sms: longest terms everywhere": sms(fill("không hài lòng lừa đảo quá tệ ", N)),
    "sms: one word": sms(fill("a", N)),
    "sms: keyword first words, no keyword": sms(fill("không khẩn tài đơn hoàn ", N)),
    "sms: Vietnamese letters, no spaces": sms(fill("ệ", N)),
    "sms: combining marks only": sms("a" + fill("\u0301", N - 1)),
    "sms: punctuation": sms(fill("!?.,;", N)),
    "sms: quote markers": sms(fill("> x\n", N)),
    "sms: attribution look-alikes": sms(fill("On 1 Jan x wrote\n", N)),
    "sms: separator look-alikes": sms(fill("From: a Sent: b ", N)),
    "sms: one long attribution": sms("On " + fill("1 ", N - 10) + " wrote:"),
    "email: 200k of <b> tags": email(fill("<b>x</b>", H)),
    "email: 200k of nested <div>": email(fill("<div>", H)),
    "email: 200k of paragraphs": email(fill("<p>tệ k</p>", H)),
    "email: 200k of <br>": email(fill("<br>", H)),
    "email: 200k of entities": email(fill("&amp;&#x1F600;", H)),
    "email: 200k of table cells": email(fill("<td>a</td>", H)),
    "email: 200k of comments": email(fill("<!-- x -->", H)),
    "email: 200k of attributes": email("<p " + fill('a="b" ', H - 10) + ">x</p>"),
    "email: 200k of unclosed tags": email(fill("<p<a<b", H)),
    "email: 200k of quoted lines": email(fill("<p>&gt; x</p>", H)),
    "email: long subject, plain text": email(text=fill("tệ k ", N), subject=fill("gấp ", 998)),
}

TOKENS = (
    "tệ", "k", "không", "chẳng", "rất", "quá", "hài lòng", "lừa đảo", "gấp", "khẩn cấp",
    "hoàn tiền", "đơn", "not", "very", "good", "bad", "never", "but", "nhưng", "!", "?",
    "\n", "\n\n", ">", "On", "wrote:", "From:", "Sent:", "-----Original Message-----", "_" * 12,
    "<p>", "</p>", "<div>", "<br>", "<b>", "&amp;", "<!--", "-->", "<script>", "ệ", "\u0301",
    "Đ", "A1023", "https://x.vn/a?b=c", "😀", " ", "  ", "\t",
)  # fmt: skip


@dataclass
class Worst:
    found: list[tuple[float, str, str, dict[str, Any]]]

    def note(self, ms: float, kind: str, text: str, message: dict[str, Any]) -> None:
        self.found.append((ms, kind, text, message))
        self.found.sort(key=lambda f: -f[0])
        del self.found[5:]


def fuzz(examples: int, worst: Worst) -> int:
    tried = 0
    texts = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=64).flatmap(
        lambda unit: st.integers(1, N).map(lambda size: (" ".join(unit) * size)[:size])
    )
    kinds: dict[str, Callable[[str], dict[str, Any]]] = {
        "sms": sms,
        "email html": lambda t: email(html=(t * (H // max(1, len(t)) + 1))[:H]),
        "email text": lambda t: email(text=t, subject=t[:998]),
    }

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.target],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.sampled_from(sorted(kinds)), texts)
    def run(kind: str, text: str) -> None:
        nonlocal tried
        try:
            message = kinds[kind](text)
            parse_inbound(message)
        except ValidationError:
            return  # not accepted by the contract: a dead letter, no further work
        tried += 1
        ms = cpu_ms(message, repeat=1)
        target(ms)
        worst.note(ms, kind, text, message)

    run()
    return tried


async def loop_stall(messages: list[dict[str, Any]], *, off_loop: bool) -> tuple[float, float]:
    """The longest the event loop (which serves /healthz, HTTP and the consumers) could not
    run while `messages` were processed as intake does (a worker thread) or on the loop."""
    stalls: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - t0 - 0.005)

    async def work() -> None:
        for message in messages:
            if off_loop:
                await asyncio.to_thread(intake_work, message)
            else:
                intake_work(message)
                await asyncio.sleep(0)
        done.set()

    t0 = time.perf_counter()
    await asyncio.gather(probe(), work())
    return max(stalls, default=0.0) * 1000, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--examples", type=int, default=400, help="fuzzer inputs")
    args = parser.parse_args()
    print(f"{'input':<44}{'CPU ms':>9}")
    corpus = {name: cpu_ms(message) for name, message in CORPUS.items()}
    for name, ms in sorted(corpus.items(), key=lambda kv: -kv[1]):
        print(f"{name:<44}{ms:9.1f}")
    worst = Worst([])
    t0 = time.monotonic()
    tried = fuzz(args.examples, worst)
    print(f"\nfuzzer: {tried} accepted inputs in {time.monotonic() - t0:.0f}s; slowest (re-measured):")  # fmt: skip
    fuzzed = []
    for _, kind, text, message in worst.found:
        fuzzed.append(cpu_ms(message))
        print(f"  {fuzzed[-1]:7.1f} ms  {kind:<10} {len(text):>6} chars  {text[:60]!r}")
    slowest = max([*corpus.values(), *fuzzed])
    print(f"\nworst input: {slowest:.1f} ms CPU (goal <= {GOAL_MS:.0f} ms)")
    barrage = [m for _, m in sorted(((cpu_ms(m, 1), m) for m in CORPUS.values()), key=lambda x: -x[0])[:8]] * 5  # fmt: skip
    for off_loop in (False, True):
        stall, seconds = asyncio.run(loop_stall(barrage, off_loop=off_loop))
        where = "in a worker thread (as intake does)" if off_loop else "on the event loop"
        print(f"barrage of {len(barrage)} worst inputs {where}: longest event-loop stall {stall:.1f} ms ({seconds:.1f}s)")  # fmt: skip
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")


if __name__ == "__main__":
    main()
