"""Classification rules read from a file and reloaded when it changes, without a restart.

A broken edit never takes the service down: the last good rules stay in force and the
error is logged (and counted) until the file is fixed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger("s8.intake.rules")


class ReloadingFile(Generic[T]):
    def __init__(
        self, path: Path, load: Callable[[Path], T], *, check_every_s: float = 2.0
    ) -> None:
        self.path = path
        self._load = load
        self.check_every_s = check_every_s
        self._value = load(path)  # a bad file at start fails fast
        self._mtime = path.stat().st_mtime_ns
        self._checked = time.monotonic()
        self.reload_errors = 0

    def get(self) -> T:
        now = time.monotonic()
        if now - self._checked >= self.check_every_s:
            self._checked = now
            self._maybe_reload()
        return self._value

    def _maybe_reload(self) -> None:
        try:
            mtime = self.path.stat().st_mtime_ns
            if mtime == self._mtime:
                return
            self._value = self._load(self.path)
            self._mtime = mtime
            log.info("reloaded %s", self.path)
        except Exception as exc:  # keep the last good rules
            self.reload_errors += 1
            log.error("could not reload %s, keeping the last good version: %s", self.path, exc)
