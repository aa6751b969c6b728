"""A per-second budget for log lines that hostile input can multiply.

A storm of 10,000 bad messages would write 10,000 error lines: their formatting and writing
cost more than dead-lettering the messages, and they bury everything else in the log. Each
kind of line gets a number per second; the rest are counted and summarised in the next
line that passes (every dead letter is still counted by its metric and kept on its topic).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class LogBudget:
    def __init__(self, per_second: int = 20, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.clock = clock
        self._window = -1
        self._used = 0
        self._suppressed = 0

    def take(self) -> int | None:
        """None when this line is over budget (skip it); else how many lines were skipped
        since the last one written (to say so in this one)."""
        window = int(self.clock())
        if window != self._window:
            self._window, self._used = window, 0
        if self._used >= self.per_second:
            self._suppressed += 1
            return None
        self._used += 1
        skipped, self._suppressed = self._suppressed, 0
        return skipped
