"""Each trigger's edge cases map to an explicit verdict; nothing odd is silently a pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.backend import signals
from turnout.backend.metrics.prometheus import DEFAULT_QUERIES, render_query
from turnout.backend.signals import PromSample

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def sample(value: float | None, *, requests: float | None = 100, age: float = 1,
           warnings: tuple[str, ...] = ()) -> PromSample:
    return PromSample(query="q", value=value, requests=requests,
                      sampled_at=NOW.timestamp() - age, warnings=warnings)


@pytest.mark.parametrize(("measured", "outcome"), [
    (sample(0.01), "pass"),
    (sample(0.5), "fail"),
    (sample(None), "inconclusive"),
    (sample(float("nan")), "inconclusive"),
    (sample(float("inf")), "error"),
    (sample(float("-inf")), "error"),
    (sample(0.5, warnings=("partial response",)), "inconclusive"),
    (sample(0.5, age=120), "inconclusive"),
    (sample(0.5, requests=3), "inconclusive"),
])
def test_prometheus_edge_cases(measured: PromSample, outcome: str) -> None:
    assert signals.prometheus_error_rate(measured, "green", NOW).outcome == outcome


def test_unreachable_prometheus_fails_only_after_k_errors() -> None:
    outcomes = [signals.unreachable("error-rate", "green", NOW, "p", n).outcome for n in (1, 2, 3, 4)]
    assert outcomes == ["error", "error", "error", "fail"]


@pytest.mark.parametrize(("history", "outcome"), [
    ([], "inconclusive"), ([True], "pass"), ([False, False], "inconclusive"),
    ([False, False, True], "pass"), ([True, False, False, False], "fail"),
])
def test_health_needs_three_consecutive_failures(history: list[bool], outcome: str) -> None:
    assert signals.health_checks(history, "green", NOW, "h").outcome == outcome


def test_log_errors_trip_above_ten_per_hundred() -> None:
    lines = ["INFO ok"] * 89 + ["ERROR boom"] * 11
    verdict = signals.log_error_rate(lines, "green", NOW, "logs")
    assert (verdict.outcome, verdict.value) == ("fail", 11.0)
    assert signals.log_error_rate(lines[1:91], "green", NOW, "logs").outcome == "pass"
    assert signals.log_error_rate([], "green", NOW, "logs").outcome == "inconclusive"


def test_smoke_names_the_failing_request() -> None:
    results = [signals.SmokeResult("home", "", 0.1), signals.SmokeResult("cart", "status 500 != 200", 0.1)]
    verdict = signals.smoke(results, "green", NOW, "smoke")
    assert verdict.outcome == "fail" and "cart: status 500" in verdict.detail


@given(st.text(max_size=40), st.text(max_size=40))
def test_label_values_cannot_change_the_query_structure(app: str, namespace: str) -> None:
    template = DEFAULT_QUERIES["error_rate"]
    benign = render_query(template, name="a", namespace="n", color="green")
    hostile = render_query(template, name=app, namespace=namespace, color="green")
    # Outside the quoted label values the query is identical: strip the values and compare.
    assert _structure(hostile) == _structure(benign)


def _structure(query: str) -> str:
    out, inside, escaped = [], False, False
    for ch in query:
        if inside:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                inside = False
                out.append('"')
            continue
        out.append(ch)
        inside = ch == '"'
    return "".join(out)
