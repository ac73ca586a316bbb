"""Signals: pure functions from measurements to verdicts.

Each returns a `Verdict` that carries the measured value, the threshold and the
source, so an operator always sees why. Nothing here performs I/O.
"""

from __future__ import annotations

import math
from datetime import datetime

from turnout.backend.models import ColorMetrics, Slot, Verdict

ERROR_RATE_THRESHOLD = 0.05
"""Fraction of requests failing above which a color fails (5 %)."""

RESTARTS_THRESHOLD = 3
"""Restarts within 5 minutes in any one pod above which a color is crash-looping."""


def error_rate(metrics: ColorMetrics, at: datetime, source: str,
               threshold: float = ERROR_RATE_THRESHOLD) -> Verdict:
    """Fail above `threshold`; a missing or non-finite value is never a pass."""
    value = metrics.error_rate
    if value is None or not math.isfinite(value):
        outcome, detail = "inconclusive", "no finite error rate measured"
    elif value > threshold:
        outcome, detail = "fail", f"{value:.1%} > {threshold:.1%}"
    else:
        outcome, detail = "pass", f"{value:.1%} <= {threshold:.1%}"
    return Verdict(signal="error-rate", color=metrics.color, outcome=outcome,  # type: ignore[arg-type]
                   value=value, threshold=threshold, source=source, at=at, detail=detail)


def crash_loop(slot: Slot, at: datetime, threshold: int = RESTARTS_THRESHOLD) -> Verdict:
    """Fail when any pod restarted more than `threshold` times in 5 minutes."""
    worst = max(slot.pods, key=lambda pod: pod.restarts_5m, default=None)
    restarts = worst.restarts_5m if worst else 0
    failing = restarts > threshold
    source = f"pod/{worst.name}" if worst else f"deployment/{slot.color}"
    return Verdict(signal="restarts", color=slot.color, outcome="fail" if failing else "pass",
                   value=float(restarts), threshold=float(threshold), source=source, at=at,
                   detail=f"{restarts} restarts in 5m {'>' if failing else '<='} {threshold}")
