"""PromQL templates: label values are escaped so no name can change a query's structure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.backend.demo import build_demo_service
from turnout.backend.errors import InvalidInput
from turnout.backend.metrics.prometheus import PrometheusMetrics
from turnout.backend.metrics.promql import DEFAULT_QUERIES, duration_seconds, escape_label, render_query

EVERY_PLACEHOLDER = 'sum(rate(x{app="$app",namespace="$namespace",color="$color"}[$window]))'


@given(st.text(max_size=40), st.text(max_size=40))
def test_label_values_cannot_change_the_query_structure(app: str, namespace: str) -> None:
    for template in (*DEFAULT_QUERIES.values(), EVERY_PLACEHOLDER):
        benign = render_query(template, app="a", namespace="n", color="green")
        hostile = render_query(template, app=app, namespace=namespace, color="green")
        assert _structure(hostile) == _structure(benign)


@given(st.text())
def test_an_escaped_value_is_printable_ascii_and_decodes_back(value: str) -> None:
    escaped = escape_label(value)
    assert all(" " <= ch <= "~" for ch in escaped)
    # Go's strconv.Unquote (Prometheus' parser) reads these escapes as Python's does.
    assert escaped.encode().decode("unicode_escape") == value


def test_hostile_names_stay_label_values() -> None:
    query = render_query(DEFAULT_QUERIES["rps"], app='x"}) or vector(1) #', namespace="n",
                         color="blue")
    assert query == 'sum(rate(http_requests_total{app="x\\"}) or vector(1) #",color="blue"}[10s]))'


def test_a_template_with_an_unknown_placeholder_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="template"):
        render_query("up{job=\"$job\"}", app="a", namespace="n", color="blue")


@pytest.mark.parametrize(("window", "seconds"), [("10s", 10), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200)])
def test_windows_are_promql_durations(window: str, seconds: float) -> None:
    assert duration_seconds(window) == seconds


@pytest.mark.parametrize("window", ["", "10", "10s]) or vector(1", "1.5m", "s"])
def test_a_window_that_is_not_a_duration_is_refused_at_start(window: str) -> None:
    with pytest.raises(InvalidInput, match="window"):
        PrometheusMetrics("http://127.0.0.1:9", window=window)


async def test_an_app_can_have_its_own_queries() -> None:
    app = await build_demo_service().app("search")
    metrics = PrometheusMetrics("http://127.0.0.1:9",
                                app_queries={"search": {"rps": 'sum(rps{svc="$app"})'}})
    try:
        assert metrics.query_for("rps", app, "green") == 'sum(rps{svc="search"})'
        assert "http_requests_total" in metrics.query_for("error_rate", app, "green")
        with pytest.raises(InvalidInput, match="signal"):
            metrics.query_for("latency", app, "green")
    finally:
        await metrics.close()


def _structure(query: str) -> str:
    """The query with the bodies of its double-quoted strings removed."""
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
