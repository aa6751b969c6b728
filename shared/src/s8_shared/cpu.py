"""CPU-bound steps off the event loop, one at a time.

A thread per step (asyncio.to_thread's pool) lets several CPU-bound threads take turns with
the event loop for the GIL, so the loop waits once per thread; one worker keeps that wait to
one switch interval, which the service lowers (`FAST_SWITCH_SECONDS`) so health probes and
heartbeats are answered in a few milliseconds while a long message is read.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
FAST_SWITCH_SECONDS = 0.001  # CPython's default is 5 ms


class CpuWorker:
    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
