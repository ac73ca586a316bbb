"""The Prometheus MetricsPort against the lab's real Prometheus and demo services."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.guard.conftest import APP, Canary
from tests.lab.conftest import Lab
from tests.support.processes import refused_port
from turnout.backend.errors import InvalidInput, Unavailable
from turnout.backend.metrics import DEFAULT_QUERIES, PrometheusMetrics, escape_label, render_query
from turnout.backend.models import App
from turnout.backend.service import ReleaseService

pytestmark = pytest.mark.lab


@pytest.fixture
async def prometheus(lab: Lab) -> AsyncIterator[PrometheusMetrics]:
    metrics = PrometheusMetrics(lab.env["prometheus_url"], timeout=2.0)
    yield metrics
    await metrics.close()


@pytest.fixture
async def search_app(canary: Canary, lab_service: Callable[..., ReleaseService]) -> App:
    return await lab_service().app(APP, canary.namespace)


async def test_an_injected_fault_raises_the_canary_error_rate_within_seconds(
        canary: Canary, prometheus: PrometheusMetrics, search_app: App) -> None:
    before = {m.color: m for m in await prometheus.golden_signals(search_app)}
    assert before["green"].error_rate is not None and before["green"].error_rate < 0.05
    assert before["green"].rps is not None and before["green"].rps > 5
    canary.fault("green", error_rate=0.5)
    injected = time.monotonic()
    while True:
        now = {m.color: m for m in await prometheus.golden_signals(search_app)}
        if (now["green"].error_rate or 0) > 0.2:
            break
        assert time.monotonic() - injected < 60, now  # a bound for a stuck scrape, not a speed
        await asyncio.sleep(0.25)
    assert now["blue"].error_rate is not None and now["blue"].error_rate < 0.05


async def test_injected_latency_shows_in_p95(canary: Canary, prometheus: PrometheusMetrics,
                                             search_app: App) -> None:
    canary.fault("green", latency_ms=300)
    for _ in range(240):  # 60 s: a loaded machine scrapes late
        green = {m.color: m for m in await prometheus.golden_signals(search_app)}["green"]
        if green.p95_ms is not None and green.p95_ms >= 300:
            break
        await asyncio.sleep(0.25)
    assert green.p95_ms is not None and 300 <= green.p95_ms <= 600


async def test_the_guard_sample_is_fresh_with_enough_requests(prometheus: PrometheusMetrics,
                                                              search_app: App) -> None:
    sample = await prometheus.sample(search_app, "green")
    assert sample.value is not None and sample.warnings == ()
    assert sample.requests is not None and sample.requests > 50  # ~20 rps over 10 s
    # Fresh as the guard means it: within its 10 s query window (a loaded machine answers late).
    assert sample.sampled_at is not None and time.time() - sample.sampled_at < 10


async def test_an_app_with_no_series_gives_an_empty_sample(prometheus: PrometheusMetrics,
                                                           search_app: App) -> None:
    nowhere = msgspec.structs.replace(search_app, name="no-such-app")
    sample = await prometheus.sample(nowhere, "green")
    assert (sample.value, sample.sampled_at) == (None, None)


async def test_series_for_charts(prometheus: PrometheusMetrics, search_app: App) -> None:
    points = await prometheus.series(search_app, "green", "rps", 1)
    assert len(points) > 10 and all(value > 0 for _, value in points[-5:])
    assert points == tuple(sorted(points))


async def test_a_query_prometheus_rejects_is_invalid_input(lab: Lab, search_app: App) -> None:
    metrics = PrometheusMetrics(lab.env["prometheus_url"], queries={"error_rate": "sum(rate(x[$window])"})
    try:
        with pytest.raises(InvalidInput, match="bad_data"):
            await metrics.sample(search_app, "green")
    finally:
        await metrics.close()


async def test_an_unreachable_prometheus_is_unavailable(search_app: App) -> None:
    dead = f"http://127.0.0.1:{refused_port()}"
    metrics = PrometheusMetrics(dead, timeout=1.0)
    try:
        with pytest.raises(Unavailable, match="unavailable"):
            await metrics.golden_signals(search_app)
        with pytest.raises(Unavailable):
            await metrics.series(search_app, "green", "rps", 1)
    finally:
        await metrics.close()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=st.text(min_size=1, max_size=30))
def test_prometheus_reads_an_escaped_value_back_exactly(lab: Lab, value: str) -> None:
    """The real parser turns every escaped string back into the same label value."""
    # label_replace expands `$1`-style group references in its replacement after the
    # string literal is parsed, so a literal `$` goes in as `$$`: that layer is the test's own.
    query = f'label_replace(vector(1), "probe", "{escape_label(value.replace("$", "$$"))}", "", "")'
    body = httpx.get(f"{lab.env['prometheus_url']}/api/v1/query", params={"query": query}, timeout=5).json()
    assert body["status"] == "success", body
    assert body["data"]["result"][0]["metric"]["probe"] == value


HOSTILE = ['x"} or vector(1) or x{a="', 'x\\"} or vector(1) #', "x\n} or vector(1)"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_app_name_cannot_add_series(lab: Lab, hostile: str) -> None:
    """Every default query is valid and empty for a name no series has, whatever the name holds."""
    for template in DEFAULT_QUERIES.values():
        query = render_query(template, app=hostile, namespace="n", color="green")
        body = httpx.get(f"{lab.env['prometheus_url']}/api/v1/query", params={"query": query},
                         timeout=5).json()
        assert (body["status"], body["data"]["result"]) == ("success", []), query
