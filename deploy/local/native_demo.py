"""`make run`'s native channels: s8-channels configured with demo accounts, customers writing
the platforms' own way (signed Zalo and Messenger webhooks, a signed Twilio SMS, a Stringee
missed call, a MIME e-mail over SMTP) and, now and then, a forged request it must refuse.
The requests are built in native_requests.py, the mail sink and platform stand-in the
service delivers to are native_outlets.py.

What stack.py calls (see each docstring):
    ports = NativePorts.for_stack(args.port_base)
    env.update(channel_env(args.port_base, ports.mail_sink, ports.platform))  # s8-channels'
    stats = NativeStats()
    async with LocalOutlets(ports.mail_sink, ports.platform) as outlets:  # native_outlets.py
        native = asyncio.create_task(send_native(ports, stop, stats))
        ...  # each view: channel_lines(<channels' scrape>, stats, outlets.stats())
        stop.set(); await native

Every secret is a fixed, public, dev-only string: never use these accounts elsewhere.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
from dataclasses import dataclass, field

import aiosmtplib
import httpx
from native_outlets import OutletStats
from native_requests import (
    META_APP_SECRET,
    META_PAGE_ID,
    STRINGEE_SID,
    STRINGEE_TOKEN,
    SUPPORT_ADDRESS,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    ZALO_APP_ID,
    ZALO_OA_ID,
    ZALO_SECRET,
    NativeRequest,
    NativeTraffic,
)

FORGEABLE = ("meta", "zalo", "twilio", "stringee")  # e-mail carries no signature to forge
ROTATION = ("zalo", "meta", "twilio", "stringee", "email")
FORGE_EVERY = 8  # one request in eight is forged: refusals show without drowning the rest
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]  # stack.py's scrape()


@dataclass(frozen=True)
class NativePorts:
    http: int  # s8-channels' webhooks
    smtp: int  # s8-channels' SMTP receiver
    mail_sink: int  # the relay it sends e-mail through (LocalOutlets)
    platform: int  # the Meta/Zalo/Twilio stand-in (LocalOutlets)

    @classmethod
    def for_stack(cls, port_base: int) -> NativePorts:
        """base+7 (the seventh service), then base+25..27: 25 recalls SMTP's port without
        needing root, lies clear of the services' base+1..base+7, and moves with --port-base,
        so two stacks (tests use other bases) never share a receiver as the fixed default
        2525 would make them."""
        return cls(port_base + 7, port_base + 25, port_base + 26, port_base + 27)

    @property
    def public_base_url(self) -> str:
        return f"http://127.0.0.1:{self.http}"


def channel_env(port_base: int, mail_sink_port: int, platform_port: int) -> dict[str, str]:
    """s8-channels' environment for `make run` (added to the process's env by stack.py)."""
    ports = NativePorts.for_stack(port_base)
    stand_in = f"http://127.0.0.1:{platform_port}"
    meta = {"app_secret": META_APP_SECRET, "verify_token": "dev-only-meta-verify-token",
            "page_tokens": {META_PAGE_ID: "dev-only-meta-page-token"}}  # fmt: skip
    zalo = [{"app_id": ZALO_APP_ID, "oa_id": ZALO_OA_ID, "secret_key": ZALO_SECRET,
             "access_token": "dev-only-zalo-access-token"}]  # fmt: skip
    twilio = [{"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "numbers": [TWILIO_NUMBER]}]
    stringee = [{"account_sid": STRINGEE_SID, "url_token": STRINGEE_TOKEN}]
    return {
        "S8_META": json.dumps(meta),
        "S8_ZALO_ACCOUNTS": json.dumps(zalo),
        "S8_TWILIO_ACCOUNTS": json.dumps(twilio),
        "S8_STRINGEE_ACCOUNTS": json.dumps(stringee),
        "S8_PUBLIC_BASE_URL": ports.public_base_url,  # what Twilio signatures are computed on
        "S8_SMTP_RECEIVER_PORT": str(ports.smtp),
        "S8_SMTP_RELAY_HOST": "127.0.0.1",
        "S8_SMTP_RELAY_PORT": str(mail_sink_port),
        "S8_SMTP_RELAY_STARTTLS": "false",  # the local sink offers no TLS
        "S8_MAIL_FROM": SUPPORT_ADDRESS,
        "S8_MAIL_FROM_NAME": "Hỗ trợ khách hàng s8",
        "S8_META_GRAPH_URL": f"{stand_in}/meta",
        "S8_ZALO_API_URL": f"{stand_in}/zalo",
        "S8_TWILIO_API_URL": f"{stand_in}/twilio",
    }


@dataclass
class NativeStats:
    # Genuine sends per platform; every key there from the start, so that the live view, read
    # in another thread, never iterates a dict that grows.
    sent: collections.Counter[str] = field(
        default_factory=lambda: collections.Counter(dict.fromkeys(ROTATION, 0))
    )
    accepted: int = 0  # genuine, answered 2xx (or 250 by SMTP)
    forged: int = 0
    refused: int = 0  # forged, answered 401 as they must be
    errors: int = 0  # anything else, `last_error` says what
    last_error: str = ""

    def error(self, what: str) -> None:
        self.errors += 1
        self.last_error = what[:120]


async def send_native(
    ports: NativePorts, stop: asyncio.Event, stats: NativeStats, rate: float = 0.3
) -> None:
    """Until `stop`: one request every 1/`rate` s, the platforms in turn, one in FORGE_EVERY
    forged. Never raises for a refused or failed send (a demo task): it counts it."""
    traffic = NativeTraffic(ports.public_base_url)
    build = {"zalo": traffic.zalo, "meta": traffic.meta, "twilio": traffic.twilio_sms,
             "stringee": traffic.stringee_call}  # fmt: skip
    async with httpx.AsyncClient(base_url=ports.public_base_url, timeout=10.0) as client:
        for step in itertools.count():
            if stop.is_set():
                break
            if step % FORGE_EVERY == FORGE_EVERY - 1:
                forged = FORGEABLE[(step // FORGE_EVERY) % len(FORGEABLE)]
                await _post(client, build[forged](forged=True), stats)
            else:
                platform = ROTATION[(step - step // FORGE_EVERY) % len(ROTATION)]
                if platform == "email":
                    await _mail(ports.smtp, traffic, stats)
                else:
                    await _post(client, build[platform](), stats)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0 / rate)


async def _post(client: httpx.AsyncClient, request: NativeRequest, stats: NativeStats) -> None:
    if request.forged:
        stats.forged += 1
    else:
        stats.sent[request.platform] += 1
    try:
        response = await client.post(request.path, content=request.body, headers=request.headers)
    except httpx.HTTPError as exc:
        stats.error(f"{request.platform}: {type(exc).__name__} {exc}")
        return
    status = response.status_code
    if request.forged and status == 401:
        stats.refused += 1
    elif request.forged:  # a forged request let through (or broken otherwise) is a failure
        stats.error(f"forged {request.platform} request answered {status}, not 401")
    elif response.is_success:
        stats.accepted += 1
    else:
        stats.error(f"{request.platform}: HTTP {status} {response.text[:60]}")


async def _mail(port: int, traffic: NativeTraffic, stats: NativeStats) -> None:
    sender, raw = traffic.mail()
    stats.sent["email"] += 1
    try:  # plain SMTP: the local receiver offers no TLS, as a relay on the same host
        await aiosmtplib.send(raw, sender=sender, recipients=[SUPPORT_ADDRESS],
                              hostname="127.0.0.1", port=port, start_tls=False, timeout=10)  # fmt: skip
    except (aiosmtplib.SMTPException, OSError) as exc:
        stats.error(f"email: {type(exc).__name__} {exc}")
    else:
        stats.accepted += 1


def _by(samples: Samples, name: str, label: str, **match: str) -> dict[str, int]:
    """`name`'s samples summed by `label` (stack.py's metric_sum, grouped)."""
    totals: collections.Counter[str] = collections.Counter()
    for (sample, labels), value in samples.items():
        found = dict(labels)
        if sample == name and all(found.get(k) == v for k, v in match.items()):
            totals[found.get(label, "")] += int(value)
    return dict(totals)


def _counts(counts: dict[str, int]) -> str:
    return "  ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "—"


def channel_lines(metrics: Samples, stats: NativeStats, outlets: OutletStats) -> list[str]:
    """Three live-view lines: what s8-channels counted (`metrics`: its scrape, as stack.py's
    `scrape(port)` returns it, {} when it does not answer), what reached the local outlets
    (`outlets`: LocalOutlets.stats()), and what the demo customers sent (`stats`)."""
    pad = f"  {'':<11}"
    received = "s8_channels_received_total"
    deliveries = "s8_channels_deliveries_total"
    if metrics:
        first = (
            f"  {'channels':<11} webhooks {_counts(_by(metrics, received, 'platform'))}"
            f" ({_counts(_by(metrics, received, 'outcome'))})"
            f"   signatures refused {_counts(_by(metrics, 's8_channels_signature_failures_total', 'platform'))}"
        )
        delivered = _by(metrics, deliveries, "outcome")
        out = (
            f"{pad} delivered {_counts(_by(metrics, deliveries, 'provider', outcome='delivered'))}"
            f"   retried {delivered.get('retried', 0)}   failed {delivered.get('failed', 0)}   →"
        )
    else:
        first, out = f"  {'channels':<11} not answering", f"{pad} reached"
    last = f" “{outlets.subjects[-1][:40]}”" if outlets.subjects else ""
    error = f" ({stats.last_error})" if stats.errors else ""
    return [
        first,
        f"{out} mail sink {outlets.mails}{last}   platform stand-in {_counts(outlets.sent)}"
        + (f" (refused {outlets.refused})" if outlets.refused else ""),
        f"{pad} native customers sent {_counts(stats.sent)}   accepted {stats.accepted}"
        f"   forged {stats.forged} → refused {stats.refused}   errors {stats.errors}{error}",
    ]
