"""Analysis: the verdicts on the new color, and what they mean for the flow.

The verdicts come from `ReleaseService.app()` (golden signals of colors that
take traffic), plus a crash-loop verdict computed here for the new color even
before it takes traffic (and where no metrics source is configured), plus any
extra triggers (the guard's, when installed). A fail rolls back; inconclusive
and error only ever make the flow wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from turnout.backend import signals
from turnout.backend.models import App, Color, Slot, Verdict
from turnout.backend.service import ReleaseService

Judgement = Literal["pass", "fail", "wait"]
TRAFFIC_SIGNALS = frozenset({"error-rate", "latency", "request-rate"})
"""Signals measured on the requests a color serves: undefined before it takes traffic."""


class Trigger(Protocol):
    """An extra source of verdicts on one color (health checks, smoke tests...)."""

    async def __call__(self, app: App, color: Color) -> Sequence[Verdict]:
        """Verdicts on `color` of `app`, now."""
        ...


def judge(verdicts: Sequence[Verdict]) -> Judgement:
    """Any fail fails; anything not a pass (inconclusive, error) waits; else pass."""
    outcomes = {v.outcome for v in verdicts}
    if "fail" in outcomes:
        return "fail"
    return "wait" if outcomes - {"pass"} else "pass"


def cause(verdicts: Sequence[Verdict]) -> str:
    """The failing verdicts in one line, with values, thresholds and sources."""
    failing = [v for v in verdicts if v.outcome == "fail"] or list(verdicts)
    return "; ".join(f"{v.signal} on {v.color}: {v.detail or v.outcome} ({v.source})"
                     for v in failing)


def readiness(slot: Slot, at: datetime) -> Verdict:
    """Pass when every desired pod of the color is ready; the waiting reasons say why not."""
    ready = sum(pod.ready for pod in slot.pods)
    reasons = sorted({pod.waiting_reason for pod in slot.pods if pod.waiting_reason})
    passing = slot.desired > 0 and ready >= slot.desired
    why = f" ({', '.join(reasons)})" if reasons else ""
    return Verdict(signal="ready", color=slot.color, outcome="pass" if passing else "fail",
                   value=float(ready), threshold=float(slot.desired),
                   source=f"deployment/{slot.color}", at=at,
                   detail=f"{ready}/{slot.desired} pods ready{why}")


class Analysis:
    """Measures the new color of an app."""

    def __init__(self, service: ReleaseService, triggers: Sequence[Trigger] = ()) -> None:
        self.service = service
        self.triggers = tuple(triggers)

    async def measure(self, name: str, namespace: str, color: Color) -> tuple[App, tuple[Verdict, ...]]:
        """The app now and the verdicts on `color`; a trigger's verdict replaces the service's
        verdict on the same signal (the guard judges Prometheus' edge cases, the service does not)."""
        app = await self.service.app(name, namespace)
        extra: list[Verdict] = []
        for trigger in self.triggers:
            extra += [v for v in await trigger(app, color) if v.color == color]
        covered = {v.signal for v in extra}
        verdicts = [v for v in app.verdicts if v.color == color and v.signal not in covered] + extra
        if not any(v.signal == "restarts" for v in verdicts):
            verdicts.append(signals.crash_loop(app.slot(color), self.service.clock()))
        return app, tuple(verdicts)

    async def preview(self, name: str, namespace: str, color: Color) -> tuple[App, tuple[Verdict, ...]]:
        """Before any traffic: pods ready, no crash loop, health and smoke checks.

        Traffic-based signals are left out: a color without traffic has no error rate to judge.
        """
        app, verdicts = await self.measure(name, namespace, color)
        kept = tuple(v for v in verdicts if v.signal not in TRAFFIC_SIGNALS)
        return app, (readiness(app.slot(color), self.service.clock()), *kept)
