"""Each trigger's edge cases map to an explicit verdict; nothing odd is silently a pass."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from turnout.backend import signals
from turnout.backend.models import ColorMetrics, Pod, Slot, Verdict
from turnout.backend.signals import PromSample, SmokeRequest

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def sample(value: float | None, *, requests: float | None = 100, age: float | None = 1,
           warnings: tuple[str, ...] = ()) -> PromSample:
    stamp = None if age is None else NOW.timestamp() - age
    return PromSample(query="q", value=value, requests=requests, sampled_at=stamp, warnings=warnings)


@pytest.mark.parametrize(("measured", "outcome", "why"), [
    (sample(0.01), "pass", "<="),
    (sample(0.05), "pass", "<="),
    (sample(0.5), "fail", ">"),
    (sample(None), "inconclusive", "empty result"),
    (sample(float("nan")), "inconclusive", "NaN"),
    (sample(float("inf")), "error", "not a ratio"),
    (sample(float("-inf")), "error", "not a ratio"),
    (sample(0.01, warnings=("partial response",)), "inconclusive", "warned"),
    (sample(0.01, age=120), "inconclusive", "stale"),
    (sample(0.01, age=None), "inconclusive", "freshness unknown"),
    (sample(0.01, requests=3), "inconclusive", "low traffic"),
    (sample(0.01, requests=None), "inconclusive", "low traffic"),
    (sample(0.01, requests=float("nan")), "inconclusive", "low traffic"),
])
def test_prometheus_edge_cases(measured: PromSample, outcome: str, why: str) -> None:
    verdict = signals.prometheus_error_rate(measured, "green", NOW, max_age=30)
    assert (verdict.outcome, verdict.signal, verdict.source) == (outcome, "error-rate", "q")
    assert why in verdict.detail and verdict.threshold == 0.05 and verdict.at == NOW


def test_a_bad_ratio_with_low_traffic_is_inconclusive_but_counts_as_a_bad_measurement() -> None:
    verdict = signals.prometheus_error_rate(sample(0.5, requests=3), "green", NOW)
    assert verdict.outcome == "inconclusive" and signals.is_bad(verdict)


def test_unreachable_prometheus_fails_only_after_k_errors() -> None:
    outcomes = [signals.unreachable("error-rate", "green", NOW, "p", n).outcome for n in (1, 2, 3, 4, 5)]
    assert outcomes == ["error", "error", "error", "fail", "fail"]
    assert signals.unreachable("error-rate", "green", NOW, "p", 2, limit=2).outcome == "fail"


@pytest.mark.parametrize(("history", "outcome", "streak"), [
    ([], "inconclusive", 0), ([True], "pass", 0), ([False], "inconclusive", 1),
    ([False, False], "inconclusive", 2), ([False, False, True], "pass", 0),
    ([True, False, False, False], "fail", 3), ([False] * 5, "fail", 5),
    ([False, False, True, False, False], "inconclusive", 2),
])
def test_health_needs_three_consecutive_failures(history: list[bool], outcome: str, streak: int) -> None:
    verdict = signals.health_checks(history, "green", NOW, "http://x/health")
    assert (verdict.outcome, verdict.value, verdict.threshold) == (outcome, streak, 3)
    assert signals.is_bad(verdict) == (streak > 0)


def test_health_failures_are_configurable() -> None:
    assert signals.health_checks([False], "green", NOW, "h", failures=1).outcome == "fail"


def test_log_errors_trip_above_ten_per_hundred() -> None:
    lines = ["INFO ok"] * 89 + ["ERROR boom"] * 11
    verdict = signals.log_error_rate(lines, "green", NOW, "logs")
    assert (verdict.outcome, verdict.value, verdict.threshold) == ("fail", 11.0, 10.0)
    exactly_ten = ["INFO ok"] * 90 + ["ERROR boom"] * 10
    assert signals.log_error_rate(exactly_ten, "green", NOW, "logs").outcome == "pass"
    assert signals.log_error_rate([], "green", NOW, "logs").outcome == "inconclusive"


def test_the_log_error_pattern_is_configurable() -> None:
    lines = ["level=error msg=x"] * 20 + ["level=info"] * 80
    assert signals.log_error_rate(lines, "green", NOW, "logs").outcome == "pass"
    custom = signals.log_error_rate(lines, "green", NOW, "logs", pattern=r"level=error")
    assert (custom.outcome, custom.value) == ("fail", 20.0)


def _slot(*restarts_5m: int) -> Slot:
    pods = tuple(Pod(name=f"web-green-{i}", color="green", phase="Running", ready=True,
                     restarts=n, restarts_5m=n) for i, n in enumerate(restarts_5m))
    return Slot(color="green", version="2", image="web:2", desired=len(pods), ready=len(pods),
                available=len(pods), pods=pods)


def test_crash_loop_names_the_worst_pod_above_three_restarts() -> None:
    verdict = signals.crash_loop(_slot(0, 4, 1), NOW)
    assert (verdict.outcome, verdict.value, verdict.source) == ("fail", 4.0, "pod/web-green-1")
    assert signals.crash_loop(_slot(3, 3), NOW).outcome == "pass"
    assert signals.crash_loop(_slot(), NOW).source == "deployment/green"


def test_the_display_error_rate_never_passes_a_missing_value() -> None:
    missing = ColorMetrics(color="green", error_rate=None, p95_ms=None, rps=None)
    assert signals.error_rate(missing, NOW, "m").outcome == "inconclusive"
    nan = ColorMetrics(color="green", error_rate=float("nan"), p95_ms=None, rps=0)
    assert signals.error_rate(nan, NOW, "m").outcome == "inconclusive"


@pytest.mark.parametrize(("expect", "status", "body", "seconds", "problem"), [
    (SmokeRequest(path="/"), 200, "", 0.1, ""),
    (SmokeRequest(path="/"), 503, "", 0.1, "status 503 != 200"),
    (SmokeRequest(path="/", status=404), 404, "", 0.1, ""),
    (SmokeRequest(path="/", contains="results"), 200, "no hits", 0.1, "body lacks 'results'"),
    (SmokeRequest(path="/", max_ms=100), 200, "", 0.25, "250 ms > 100 ms"),
    (SmokeRequest(path="/", max_ms=100), 200, "", 0.05, ""),
])
def test_smoke_expectations(expect: SmokeRequest, status: int, body: str, seconds: float,
                            problem: str) -> None:
    assert signals.smoke_problem(expect, status, body, seconds) == problem


def test_smoke_names_the_failing_request() -> None:
    results = [signals.SmokeResult("home", "", 0.1), signals.SmokeResult("cart", "status 500 != 200", 0.1)]
    verdict = signals.smoke(results, "green", NOW, "smoke")
    assert (verdict.outcome, verdict.value) == ("fail", 1.0) and "cart: status 500" in verdict.detail
    assert signals.smoke(results[:1], "green", NOW, "smoke").outcome == "pass"
    assert signals.smoke([], "green", NOW, "smoke").outcome == "inconclusive"


def test_a_pass_is_never_a_bad_measurement() -> None:
    good = Verdict(signal="error-rate", color="green", outcome="pass", value=0.01, threshold=0.05,
                   source="q", at=NOW)
    assert not signals.is_bad(good)
    assert signals.is_bad(Verdict(signal="x", color="green", outcome="error", value=None,
                                  threshold=None, source="q", at=NOW))


def test_a_pod_waiting_in_crash_loop_back_off_after_many_restarts_fails() -> None:
    pod = Pod(name="web-green-0", color="green", phase="Running", ready=False, restarts=9,
              restarts_5m=1, waiting_reason="CrashLoopBackOff")
    slot = Slot(color="green", version="2", image="x", desired=1, ready=0, available=0,
                pods=(pod,))
    verdict = signals.crash_loop(slot, NOW)
    assert (verdict.outcome, verdict.source) == ("fail", "pod/web-green-0")
    assert "CrashLoopBackOff after 9 restarts" in verdict.detail


def test_restarts_without_pods_are_unknown() -> None:
    empty = Slot(color="green", version="", image="", desired=1, ready=0, available=0)
    assert signals.crash_loop(empty, NOW).outcome == "inconclusive"


def test_unknown_is_never_the_health_of_an_app() -> None:
    from turnout.backend.models import App, Traffic, Weights

    slot = Slot(color="blue", version="1", image="x", desired=1, ready=1, available=1)
    app = App(name="a", namespace="n", context="c", blue=slot,
              green=msgspec.structs.replace(slot, color="green"),
              traffic=Traffic(live="blue", weights=Weights.all_to("blue")))
    assert app.health == "inconclusive"
    unknown = signals.no_source("error-rate", "blue", NOW, "no metrics source configured")
    passing = signals.crash_loop(msgspec.structs.replace(slot, pods=(Pod(
        name="p", color="blue", phase="Running", ready=True),)), NOW)
    assert passing.outcome == "pass"
    assert msgspec.structs.replace(app, verdicts=(passing, unknown)).health == "inconclusive"
    down = signals.unreachable("error-rate", "blue", NOW, "metrics/a/blue", 1)
    assert msgspec.structs.replace(app, verdicts=(passing, down, unknown)).health == "error"
