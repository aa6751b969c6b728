"""`make run`'s terminal: the live view redrawn in place on a terminal (a scrolling log when
the output is a file or a pipe), the demo's own announcements kept under it, and the run's
summary read from analytics at the end."""

from __future__ import annotations

import collections
import sys
from typing import Any, TextIO

HOME_AND_CLEAR = "\x1b[H\x1b[2J"
KEPT_ANNOUNCEMENTS = 6


class Screen:
    def __init__(self, out: TextIO = sys.stdout, *, in_place: bool | None = None) -> None:
        self.out = out
        self.in_place = out.isatty() if in_place is None else in_place
        self.announcements: collections.deque[str] = collections.deque(maxlen=KEPT_ANNOUNCEMENTS)

    def announce(self, line: str) -> None:
        """A demo event (a problem declared, …): printed now, and kept under the live view."""
        self.announcements.append(line)
        if not self.in_place:
            print(line, file=self.out, flush=True)

    def show(self, view: str) -> None:
        if self.in_place:
            kept = "\n".join(self.announcements)
            self.out.write(f"{HOME_AND_CLEAR}{view}\n\n{kept}\n" if kept else f"{HOME_AND_CLEAR}{view}\n")  # fmt: skip
            self.out.flush()
        else:
            print(view, file=self.out, flush=True)


def _seconds(value: Any) -> str:
    return "—" if value is None else f"{float(value):.0f} s"


def _percent(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f}%"


def summary(kpis: dict[str, Any]) -> str:
    """The run in a few lines, from `GET /v1/kpis` over the run's period."""
    group = (kpis.get("groups") or {}).get("all") or {}
    sla = group.get("sla_compliance") or {}
    compliance = ", ".join(f"{target} {_percent(r.get('percent'))}" for target, r in sorted(sla.items()))  # fmt: skip
    csat, nps = group.get("csat") or {}, group.get("nps") or {}
    nps_score = nps.get("score")
    return "\n".join(
        [
            "==> the run, as analytics counts it",
            f"    tickets created {group.get('tickets_created', 0)}, solved {group.get('tickets_solved', 0)}",
            f"    first response median {_seconds((group.get('first_response_seconds') or {}).get('median'))}",
            f"    SLA compliance {compliance or '—'}",
            f"    CSAT {_percent(csat.get('percent'))} of {csat.get('responses', 0)} answers"
            f"   NPS {'—' if nps_score is None else f'{nps_score:.0f}'} of {nps.get('responses', 0)}",
            f"    bot handoff rate {_percent((kpis.get('handoff_rate') or {}).get('percent'))}"
            f"   FAQ deflection {_percent((group.get('faq_deflection_rate') or {}).get('percent'))}",
        ]
    )
