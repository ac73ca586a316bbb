"""Signals: pure functions from typed measurements to verdicts.

Each returns a `Verdict` carrying the measured value, the threshold, the source
(query, URL, pod) and the time, so an operator always sees why. Nothing here
performs I/O: the guard measures, keeps the streaks, and calls these.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime

import msgspec

from turnout.backend.models import Color, ColorMetrics, Outcome, Slot, Verdict

ERROR_RATE_THRESHOLD = 0.05
"""Fraction of requests failing above which a color fails (5 %)."""

RESTARTS_THRESHOLD = 3
"""Restarts within 5 minutes in any one pod above which a color is crash-looping."""

HEALTH = "health"
"""The name of the health-check signal; its value is the failure streak."""


def error_rate(metrics: ColorMetrics, at: datetime, source: str,
               threshold: float = ERROR_RATE_THRESHOLD) -> Verdict:
    """Fail above `threshold`; a missing or non-finite value is never a pass."""
    value = metrics.error_rate
    outcome: Outcome
    if value is None or not math.isfinite(value):
        outcome, detail = "inconclusive", "no finite error rate measured"
    elif value > threshold:
        outcome, detail = "fail", f"{value:.1%} > {threshold:.1%}"
    else:
        outcome, detail = "pass", f"{value:.1%} <= {threshold:.1%}"
    return Verdict(signal="error-rate", color=metrics.color, outcome=outcome, value=value,
                   threshold=threshold, source=source, at=at, detail=detail)


def crash_loop(slot: Slot, at: datetime, threshold: int = RESTARTS_THRESHOLD) -> Verdict:
    """Fail when any pod restarted more than `threshold` times in 5 minutes, or waits in
    CrashLoopBackOff after more than `threshold` restarts (what one snapshot can tell of a
    loop the kubelet has slowed down); without pods the restarts are unknown."""
    if slot.pods_loading:
        return Verdict(signal="restarts", color=slot.color, outcome="inconclusive", value=None,
                       threshold=float(threshold), source=f"deployment/{slot.color}", at=at,
                       detail="pods still loading: restarts unknown")
    if not slot.pods:
        return Verdict(signal="restarts", color=slot.color, outcome="inconclusive", value=None,
                       threshold=float(threshold), source=f"deployment/{slot.color}", at=at,
                       detail="no pods: restarts unknown")
    worst = max(slot.pods, key=lambda pod: (pod.restarts_5m, pod.restarts))
    looping = next((p for p in slot.pods if p.waiting_reason == "CrashLoopBackOff"
                    and p.restarts > threshold), None)
    restarts = worst.restarts_5m
    outcome: Outcome = "pass"
    detail = f"{restarts} restarts in 5m <= {threshold}"
    if restarts > threshold:
        outcome, detail = "fail", f"{restarts} restarts in 5m > {threshold}"
    elif looping is not None:
        worst, restarts = looping, looping.restarts_5m
        outcome = "fail"
        detail = (f"CrashLoopBackOff after {looping.restarts} restarts > {threshold} "
                  f"({restarts} in 5m)")
    return Verdict(signal="restarts", color=slot.color, outcome=outcome,
                   value=float(restarts), threshold=float(threshold), source=f"pod/{worst.name}",
                   at=at, detail=detail)


def is_bad(verdict: Verdict) -> bool:
    """Whether this measurement was bad, even if it did not fail yet (the incident's first
    bad measurement): a fail or error, one failed health check, or a value over its threshold."""
    if verdict.outcome in ("fail", "error"):
        return True
    if verdict.value is None or verdict.threshold is None or not math.isfinite(verdict.value):
        return False
    if verdict.signal == HEALTH:
        return verdict.value >= 1
    return verdict.value > verdict.threshold


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
    outcome: Outcome
    if not history:
        outcome, detail = "inconclusive", "no health check yet"
    elif streak >= failures:
        outcome, detail = "fail", f"{streak} consecutive failures >= {failures}"
    elif streak:
        outcome, detail = "inconclusive", f"{streak} consecutive failure(s) < {failures}"
    else:
        outcome, detail = "pass", "last check passed"
    return Verdict(signal=HEALTH, color=color, outcome=outcome, value=float(streak),
                   threshold=float(failures), source=source, at=at, detail=detail)


# --- Prometheus error rate -------------------------------------------------------


class PromSample(msgspec.Struct, frozen=True):
    """One instant-query result for a color: the ratio, its request count and freshness."""

    query: str
    value: float | None
    """The error ratio, or None when the result was empty."""
    requests: float | None
    """Requests in the window, to tell low traffic from health."""
    sampled_at: float | None
    """Unix time of the newest raw sample behind the ratio (not the evaluation time)."""
    warnings: tuple[str, ...] = ()


def prometheus_error_rate(sample: PromSample, color: Color, at: datetime, *,
                          threshold: float = ERROR_RATE_THRESHOLD, min_requests: float = 10,
                          max_age: float = 30) -> Verdict:
    """A Prometheus error ratio judged explicitly: nothing odd is ever silently a pass."""
    outcome, detail = _judge_sample(sample, at, threshold, min_requests, max_age)
    return Verdict(signal="error-rate", color=color, outcome=outcome, value=sample.value,
                   threshold=threshold, source=sample.query, at=at, detail=detail)


def _judge_sample(sample: PromSample, at: datetime, threshold: float, min_requests: float,
                  max_age: float) -> tuple[Outcome, str]:
    value = sample.value
    if sample.warnings:
        return "inconclusive", "Prometheus warned: " + "; ".join(sample.warnings)[:200]
    if value is None:
        return "inconclusive", "empty result: no series for this color"
    if math.isnan(value):
        return "inconclusive", "NaN: no requests in the window"
    if math.isinf(value):
        return "error", f"{value} is not a ratio"
    if sample.sampled_at is None:
        return "inconclusive", "no sample time: freshness unknown"
    if at.timestamp() - sample.sampled_at > max_age:
        return "inconclusive", f"stale: newest sample {at.timestamp() - sample.sampled_at:.0f} s old"
    if sample.requests is None or not math.isfinite(sample.requests) or sample.requests < min_requests:
        count = "unknown" if sample.requests is None else f"{sample.requests:.0f}"
        return "inconclusive", f"low traffic: {count} < {min_requests:g} requests"
    if value > threshold:
        return "fail", f"{value:.1%} > {threshold:.1%}"
    return "pass", f"{value:.1%} <= {threshold:.1%}"


def no_source(signal: str, color: Color, at: datetime, why: str) -> Verdict:
    """Nothing to measure `signal` with: unknown, never a pass."""
    return Verdict(signal=signal, color=color, outcome="inconclusive", value=None,
                   threshold=None, source="none", at=at, detail=why)


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
                       threshold=float(threshold), source=source, at=at, detail="no log lines")
    matcher = re.compile(pattern)
    per_100 = 100 * sum(bool(matcher.search(line)) for line in lines) / len(lines)
    failing = per_100 > threshold
    return Verdict(signal="log-errors", color=color, outcome="fail" if failing else "pass",
                   value=per_100, threshold=float(threshold), source=source, at=at,
                   detail=f"{per_100:.1f} errors per 100 lines {'>' if failing else '<='} {threshold:g}")


# --- smoke tests ------------------------------------------------------------------------


class SmokeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One declarative smoke request (an item of the smoke-tests YAML list)."""

    path: str
    """Path appended to the color's base URL, e.g. `/api/items?q=shoe`."""
    name: str = ""
    """What the operator reads when it fails (default: the path)."""
    method: str = "GET"
    status: int = 200
    """The expected status code."""
    contains: str = ""
    """Text the body must contain (empty: not checked)."""
    max_ms: float | None = None
    """Latency bound in milliseconds (None: not checked)."""

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.path}"


def smoke_problem(request: SmokeRequest, status: int, body: str, seconds: float) -> str:
    """What this response missed of `request`'s expectations; empty when it met them all."""
    if status != request.status:
        return f"status {status} != {request.status}"
    if request.contains and request.contains not in body:
        return f"body lacks {request.contains!r}"
    if request.max_ms is not None and seconds * 1000 > request.max_ms:
        return f"{seconds * 1000:.0f} ms > {request.max_ms:g} ms"
    return ""


class SmokeResult(msgspec.Struct, frozen=True):
    """One smoke request's outcome; `problem` is empty when it met every expectation."""

    name: str
    problem: str
    seconds: float


def smoke(results: Sequence[SmokeResult], color: Color, at: datetime, source: str) -> Verdict:
    """Fail when any smoke request missed its status, body text or latency bound."""
    failed = [r for r in results if r.problem]
    outcome: Outcome
    if not results:
        outcome, detail = "inconclusive", "no smoke tests configured"
    elif failed:
        outcome, detail = "fail", "; ".join(f"{r.name}: {r.problem}" for r in failed)[:300]
    else:
        outcome, detail = "pass", f"{len(results)} smoke tests passed"
    return Verdict(signal="smoke", color=color, outcome=outcome, value=float(len(failed)),
                   threshold=0.0, source=source, at=at, detail=detail)
