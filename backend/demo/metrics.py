"""The demo metrics adapter: golden signals from the simulated world."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from turnout.backend.demo.world import EPOCH, DemoWorld
from turnout.backend.errors import InvalidInput
from turnout.backend.models import COLORS, App, Color, ColorMetrics

SIGNALS = {"error_rate": 1, "p95_ms": 2, "rps": 3}
WINDOW = 5
"""Samples (seconds) averaged into one reading, like a rate()[5s] query."""


class DemoMetrics:
    """A `MetricsPort` over the simulated world's metric history."""

    def __init__(self, world: DemoWorld) -> None:
        self.world = world

    async def golden_signals(self, app: App) -> tuple[ColorMetrics, ...]:
        return tuple(self._reading(app, color) for color in COLORS)

    def _reading(self, app: App, color: Color) -> ColorMetrics:
        samples = self.world.apps[(app.namespace, app.name)].history.get(color, [])[-WINDOW:]
        rps = sum(s[3] for s in samples) / len(samples) if samples else None
        if not samples or not rps:
            return ColorMetrics(color=color, error_rate=None, p95_ms=None, rps=rps)
        errors = [s[1] for s in samples if math.isfinite(s[1])]
        return ColorMetrics(color=color, error_rate=sum(errors) / len(errors) if errors else None,
                            p95_ms=max(s[2] for s in samples), rps=rps)

    async def bad_run_start(self, app: App, color: Color,
                            threshold: float) -> tuple[datetime, float] | None:
        """The first sample of the newest run of one-second samples over `threshold` (a sample
        with no traffic ends a run: it measured nothing)."""
        first = None
        for at, error_rate, *_ in reversed(self.world.apps[(app.namespace, app.name)].history.get(color, [])):
            if not (math.isfinite(error_rate) and error_rate > threshold):
                break
            first = (EPOCH + timedelta(seconds=at), error_rate)
        return first

    async def series(self, app: App, color: Color, signal: str,
                     minutes: int) -> tuple[tuple[float, float], ...]:
        if signal not in SIGNALS:
            raise InvalidInput(f"signal {signal!r}: expected one of {', '.join(SIGNALS)}")
        column = SIGNALS[signal]
        since = self.world.now - minutes * 60
        start = EPOCH.timestamp()
        samples = self.world.apps[(app.namespace, app.name)].history.get(color, [])
        return tuple((start + s[0], s[column]) for s in samples if s[0] >= since)
