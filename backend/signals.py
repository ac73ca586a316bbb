"""Signals: pure functions from measurements to verdicts.

Each returns a `Verdict` that carries the measured value, the threshold and the
source, so an operator always sees why. Nothing here performs I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from turnout.backend.models import Color, ColorMetrics, Slot, Verdict

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


# --- health checks -------------------------------------------------------------

HEALTH_FAILURES = 3
"""Consecutive failed health checks after which a color fails."""


def health_checks(history: Sequence[bool], color: Color, at: datetime, source: str,
                  failures: int = HEALTH_FAILURES) -> Verdict:
    """Fail after `failures` consecutive failed checks (newest last); fewer is inconclusive."""
    streak = 0
    for ok in reversed(history):
        if ok:
            break
        streak += 1
    if not history:
        outcome, detail = "inconclusive", "no health check yet"
    elif streak >= failures:
        outcome, detail = "fail", f"{streak} consecutive failures >= {failures}"
    elif streak:
        outcome, detail = "inconclusive", f"{streak} consecutive failures < {failures}"
    else:
        outcome, detail = "pass", "last check passed"
    return Verdict(signal="health", color=color, outcome=outcome, value=float(streak),  # type: ignore[arg-type]
                   threshold=float(failures), source=source, at=at, detail=detail)


# --- Prometheus error rate -------------------------------------------------------


@dataclass(frozen=True)
class PromSample:
    """One instant-query result for a color: the ratio, its request count and freshness."""

    query: str
    value: float | None
    """The error ratio, or None when the result was empty."""
    requests: float | None
    """Requests in the window, to tell low traffic from health."""
    sampled_at: float | None
    """Unix time of the sample."""
    warnings: tuple[str, ...] = ()


def prometheus_error_rate(sample: PromSample, color: Color, at: datetime, *,
                          threshold: float = ERROR_RATE_THRESHOLD, min_requests: float = 10,
                          max_age: float = 30) -> Verdict:
    """A Prometheus error ratio judged explicitly: nothing odd is ever silently a pass."""
    outcome, detail = _judge_sample(sample, at, threshold, min_requests, max_age)
    return Verdict(signal="error-rate", color=color, outcome=outcome, value=sample.value,  # type: ignore[arg-type]
                   threshold=threshold, source=sample.query, at=at, detail=detail)


def _judge_sample(sample: PromSample, at: datetime, threshold: float, min_requests: float,
                  max_age: float) -> tuple[str, str]:
    value = sample.value
    if sample.warnings:
        return "inconclusive", "Prometheus warned: " + "; ".join(sample.warnings)[:200]
    if value is None:
        return "inconclusive", "empty result: no series for this color"
    if math.isnan(value):
        return "inconclusive", "NaN: no requests in the window"
    if math.isinf(value):
        return "error", f"{value} is not a ratio"
    if sample.sampled_at is not None and at.timestamp() - sample.sampled_at > max_age:
        return "inconclusive", f"stale: newest sample {at.timestamp() - sample.sampled_at:.0f} s old"
    if sample.requests is not None and sample.requests < min_requests:
        return "inconclusive", f"low traffic: {sample.requests:.0f} < {min_requests:.0f} requests"
    if value > threshold:
        return "fail", f"{value:.1%} > {threshold:.1%}"
    return "pass", f"{value:.1%} <= {threshold:.1%}"


PROMETHEUS_ERRORS = 4
"""Consecutive unreachable-Prometheus errors after which the signal fails."""


def unreachable(signal: str, color: Color, at: datetime, source: str, streak: int,
                limit: int = PROMETHEUS_ERRORS) -> Verdict:
    """A source that could not be read: error, and fail once it has been out `limit` times."""
    failing = streak >= limit
    return Verdict(signal=signal, color=color, outcome="fail" if failing else "error",
                   value=float(streak), threshold=float(limit), source=source, at=at,
                   detail=f"unreachable {streak} time(s) in a row{' >= ' if failing else ' < '}{limit}")


# --- errors in logs ------------------------------------------------------------------

LOG_ERRORS_PER_100 = 10.0
"""Error lines per 100 log lines above which a color fails."""
LOG_ERROR_PATTERN = r"\b(ERROR|FATAL|CRITICAL|panic|Traceback)\b"


def log_error_rate(lines: Sequence[str], color: Color, at: datetime, source: str, *,
                   pattern: str = LOG_ERROR_PATTERN,
                   threshold: float = LOG_ERRORS_PER_100) -> Verdict:
    """Errors per 100 log lines; no lines is inconclusive, never a pass."""
    if not lines:
        return Verdict(signal="log-errors", color=color, outcome="inconclusive", value=None,
                       threshold=threshold, source=source, at=at, detail="no log lines")
    matcher = re.compile(pattern)
    per_100 = 100 * sum(bool(matcher.search(line)) for line in lines) / len(lines)
    failing = per_100 > threshold
    return Verdict(signal="log-errors", color=color, outcome="fail" if failing else "pass",
                   value=per_100, threshold=threshold, source=source, at=at,
                   detail=f"{per_100:.1f} errors per 100 lines {'>' if failing else '<='} {threshold:g}")


# --- smoke tests ------------------------------------------------------------------------


@dataclass(frozen=True)
class SmokeResult:
    """One smoke request's outcome; `problem` is empty when it met every expectation."""

    name: str
    problem: str
    seconds: float


def smoke(results: Sequence[SmokeResult], color: Color, at: datetime, source: str) -> Verdict:
    """Fail when any smoke request missed its status, body text or latency bound."""
    failed = [r for r in results if r.problem]
    if not results:
        outcome, detail = "inconclusive", "no smoke tests configured"
    elif failed:
        outcome, detail = "fail", "; ".join(f"{r.name}: {r.problem}" for r in failed)[:300]
    else:
        outcome, detail = "pass", f"{len(results)} smoke tests passed"
    return Verdict(signal="smoke", color=color, outcome=outcome, value=float(len(failed)),  # type: ignore[arg-type]
                   threshold=0.0, source=source, at=at, detail=detail)
