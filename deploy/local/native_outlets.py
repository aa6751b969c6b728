"""Where s8-channels delivers during `make run`: a local mail sink (the SMTP relay it sends
e-mail through) and a stand-in for the Meta, Zalo and Twilio send APIs, both in-process on
the demo's event loop, so that replies to native-channel customers succeed without any real
account and the live view can show what went out.

    async with LocalOutlets(mail_port, platform_port) as outlets:
        ...
        outlets.stats()  # OutletStats: mails, last subjects, sends per platform, refused

Port 0 picks a free port (tests); the bound ones are `outlets.mail_port` / `.platform_port`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email
import email.policy
import secrets
import socket
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

HOST = "127.0.0.1"
KEPT_SUBJECTS = 3


@dataclass(frozen=True)
class OutletStats:
    """A snapshot: safe to read from another thread (the live view is built in one)."""

    mails: int = 0
    subjects: tuple[str, ...] = ()  # the last few, newest last
    sent: dict[str, int] = field(default_factory=dict)  # platform (meta, zalo, twilio) → sends
    refused: int = 0  # calls without the credentials the real API would demand


class _Counts:
    def __init__(self) -> None:
        self.mails = 0
        self.subjects: collections.deque[str] = collections.deque(maxlen=KEPT_SUBJECTS)
        # Every key from the start: stats() may copy it from another thread.
        self.sent = collections.Counter(dict.fromkeys(("meta", "zalo", "twilio"), 0))
        self.refused = 0


class _MailSink:
    """aiosmtpd handler: every mail is accepted, counted and its decoded subject kept."""

    def __init__(self, counts: _Counts) -> None:
        self.counts = counts

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        self.counts.mails += 1
        self.counts.subjects.append(str(mail.get("Subject", "")))
        return "250 OK: kept by the local mail sink"


def _platform_app(counts: _Counts) -> Starlette:
    """The three send APIs, answering in each platform's own shape. Credentials are only
    checked for presence: a sender that forgot them fails here as it would for real."""

    def refused(status: int, body: dict[str, Any]) -> JSONResponse:
        counts.refused += 1
        return JSONResponse(body, status_code=status)

    async def meta(request: Request) -> JSONResponse:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            error = {"message": "An access token is required", "type": "OAuthException", "code": 190}  # fmt: skip
            return refused(400, {"error": error})
        body = await request.json()
        counts.sent["meta"] += 1
        recipient = (body.get("recipient") or {}).get("id")
        return JSONResponse({"recipient_id": recipient, "message_id": f"m_{secrets.token_urlsafe(24)}"})  # fmt: skip

    async def zalo(request: Request) -> JSONResponse:
        if not request.headers.get("access_token"):
            return refused(200, {"error": -216, "message": "Access token is invalid"})
        body = await request.json()
        counts.sent["zalo"] += 1
        user = (body.get("recipient") or {}).get("user_id")
        data = {"message_id": secrets.token_hex(16), "user_id": user}
        return JSONResponse({"error": 0, "message": "Success", "data": data})

    async def twilio(request: Request) -> JSONResponse:
        if not request.headers.get("authorization", "").startswith("Basic "):
            return refused(401, {"code": 20003, "message": "Authenticate", "status": 401})
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        counts.sent["twilio"] += 1
        sid = request.path_params["sid"]
        message = {"sid": f"SM{secrets.token_hex(16)}", "account_sid": sid, "status": "queued",
                   "to": form.get("To"), "from": form.get("From"), "body": form.get("Body")}  # fmt: skip
        return JSONResponse(message, status_code=201)

    return Starlette(
        routes=[
            Route("/meta/{page_id}/messages", meta, methods=["POST"]),
            Route("/zalo/v3.0/oa/message/cs", zalo, methods=["POST"]),
            Route("/twilio/2010-04-01/Accounts/{sid}/Messages.json", twilio, methods=["POST"]),
        ]
    )


class _EmbeddedServer(uvicorn.Server):
    """uvicorn on the caller's loop, leaving SIGINT/SIGTERM to the caller: uvicorn's own
    handlers would swallow the stack's Ctrl-C until the stand-in stopped."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bound(port: int) -> socket.socket:
    """A socket bound now, so a busy port fails here (uvicorn would sys.exit on it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, port: int) -> AsyncIterator[int]:
    """`app` under uvicorn on this loop, on `port` (0: a free one, yielded), without its
    lifespan (an s8 app's would connect to Kafka) and without touching logging."""
    sock = _bound(port)
    config = uvicorn.Config(app, lifespan="off", access_log=False, log_config=None, log_level="warning")  # fmt: skip
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():  # it failed to start: its exception says why
                await task
                raise RuntimeError("uvicorn stopped while starting")
            await asyncio.sleep(0.02)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=5)
        sock.close()


async def _close(server: asyncio.Server) -> None:
    server.close()
    # Bounded: from Python 3.12 wait_closed() also waits for idle SMTP clients to leave.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), timeout=2)


class LocalOutlets:
    def __init__(self, mail_port: int, platform_port: int) -> None:
        self.mail_port = mail_port
        self.platform_port = platform_port
        self._counts = _Counts()
        self._stack = contextlib.AsyncExitStack()

    def stats(self) -> OutletStats:
        """A snapshot; take it on the event loop (the counters change there)."""
        c = self._counts
        return OutletStats(c.mails, tuple(c.subjects), {k: v for k, v in c.sent.items() if v}, c.refused)  # fmt: skip

    async def __aenter__(self) -> LocalOutlets:
        loop = asyncio.get_running_loop()
        handler = _MailSink(self._counts)
        async with contextlib.AsyncExitStack() as stack:
            # A fixed hostname: SMTP() would otherwise ask the resolver for the FQDN (slow offline).
            smtp = await loop.create_server(
                lambda: SMTP(handler, hostname="mail-sink.s8.local", loop=loop),
                HOST,
                self.mail_port,
            )
            stack.push_async_callback(_close, smtp)
            self.mail_port = smtp.sockets[0].getsockname()[1]
            app = _platform_app(self._counts)
            self.platform_port = await stack.enter_async_context(serving(app, self.platform_port))
            self._stack = stack.pop_all()  # started: closed by __aexit__ from now on
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()
