"""Prometheus as the `MetricsPort`: error rate, p95 latency and request rate per color.

Instant queries (the guard's, every few seconds) go over httpx: they are async,
and the guard must see Prometheus' `warnings`, which prometheus-api-client's
`custom_query` drops. Range queries for the charts use prometheus-api-client,
whose calls are synchronous, so they run in a worker thread.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_api_client import PrometheusConnect
from urllib3.util.retry import Retry

from turnout.backend.errors import InvalidInput, Unavailable
from turnout.backend.metrics.promql import (
    CHART_SIGNALS,
    DEFAULT_QUERIES,
    duration_seconds,
    queries_for,
    render_query,
)
from turnout.backend.models import COLORS, App, Color, ColorMetrics
from turnout.backend.signals import PromSample

Result = list[dict[str, Any]]
LOOKBACK = 300.0
"""Seconds of history searched for the first bad point of an incident."""


class PrometheusMetrics:
    """Golden signals from a Prometheus server, with per-app PromQL templates."""

    def __init__(self, url: str, *, timeout: float = 5.0, window: str = "10s",
                 queries: Mapping[str, str] | None = None,
                 app_queries: Mapping[str, Mapping[str, str]] | None = None) -> None:
        duration_seconds(window)  # a malformed window fails here, at start, not at every query
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.window = window
        self.queries = {**DEFAULT_QUERIES, **(queries or {})}
        self.app_queries = dict(app_queries or {})
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout)

    def query_for(self, signal: str, app: App, color: Color) -> str:
        """The PromQL this adapter runs for `signal` of `color`."""
        templates = queries_for(app.name, self.queries, self.app_queries)
        if signal not in templates:
            raise InvalidInput(f"signal {signal!r}: expected one of {', '.join(templates)}")
        return render_query(templates[signal], app=app.name, namespace=app.namespace, color=color,
                            window=self.window)

    async def instant(self, query: str) -> tuple[Result, tuple[str, ...]]:
        """Run an instant query: (result, warnings).

        `Unavailable` when Prometheus cannot answer (it counts towards the guard's K
        errors); `InvalidInput` when it rejects the query (a template to fix, which
        must never roll anything back).
        """
        return await self._ask("/api/v1/query", {"query": query})

    async def _ask(self, path: str, params: dict[str, str]) -> tuple[Result, tuple[str, ...]]:
        query = params["query"]
        try:
            async with asyncio.timeout(self.timeout):  # every phase together, not each
                response = await self._http.get(path, params=params)
            body = response.json()
        except (httpx.HTTPError, ValueError, TimeoutError) as err:
            raise Unavailable(f"Prometheus at {self.url} unavailable: {type(err).__name__}") from err
        if body.get("status") == "success":
            return list(body["data"]["result"]), tuple(body.get("warnings") or ())
        message = f"Prometheus {body.get('errorType', response.status_code)}: {body.get('error', '')}"
        if body.get("errorType") == "bad_data":
            raise InvalidInput(f"{message[:300]} in {query}")
        raise Unavailable(message[:300])

    async def sample(self, app: App, color: Color) -> PromSample:
        """The error ratio of `color` with its request count, freshness and warnings."""
        query = self.query_for("error_rate", app, color)
        (ratio, warnings), (requests, more), (fresh, most) = await asyncio.gather(
            self.instant(query), self.instant(self.query_for("requests", app, color)),
            self.instant(self.query_for("freshness", app, color)))
        return PromSample(query=query, value=_first(ratio), requests=_first(requests),
                          sampled_at=_first(fresh), warnings=warnings + more + most)

    async def bad_run_start(self, app: App, color: Color,
                            threshold: float) -> tuple[datetime, float] | None:
        """The first point of the newest run of `color`'s error ratio above `threshold`, over the
        last `LOOKBACK` seconds at a one-second step: Prometheus' own times, not the guard's."""
        end = datetime.now(UTC).timestamp()
        result, _ = await self._ask("/api/v1/query_range", {
            "query": self.query_for("error_rate", app, color), "start": f"{end - LOOKBACK:.3f}",
            "end": f"{end:.3f}", "step": "1s"})
        first = None
        for at, value in reversed(result[0]["values"] if result else []):
            ratio = float(value)
            if not (math.isfinite(ratio) and ratio > threshold):
                break
            first = (datetime.fromtimestamp(float(at), UTC), ratio)
        return first

    async def golden_signals(self, app: App) -> tuple[ColorMetrics, ...]:
        """Error rate, p95 latency (ms) and request rate of each color, now."""
        return tuple(await asyncio.gather(*(self._color(app, c) for c in COLORS)))

    async def _color(self, app: App, color: Color) -> ColorMetrics:
        answers = await asyncio.gather(*(self.instant(self.query_for(n, app, color))
                                         for n in CHART_SIGNALS))
        values = [_finite(_first(result)) for result, _ in answers]
        return ColorMetrics(color=color, error_rate=values[0], p95_ms=values[1], rps=values[2])

    async def series(self, app: App, color: Color, signal: str,
                     minutes: int) -> tuple[tuple[float, float], ...]:
        """(unix time, value) samples of `signal` over the last `minutes`, for charts."""
        if signal not in CHART_SIGNALS:
            raise InvalidInput(f"signal {signal!r}: expected one of {', '.join(CHART_SIGNALS)}")
        query = self.query_for(signal, app, color)
        end = datetime.now(UTC)
        step = f"{max(1, minutes * 60 // 240)}s"  # about 240 points, enough for a terminal chart
        client = PrometheusConnect(self.url, disable_ssl=True, timeout=math.ceil(self.timeout),
                                   retry=Retry(total=1, backoff_factor=0.2))
        try:
            async with asyncio.timeout(self.timeout):  # its retry included
                result = await asyncio.to_thread(client.custom_query_range, query,
                                                 end - timedelta(minutes=minutes), end, step)
        except Exception as err:  # requests/urllib3/client errors of every kind mean the same here
            raise Unavailable(f"Prometheus at {self.url} unavailable: {type(err).__name__}") from err
        points = result[0]["values"] if result else []
        return tuple((float(t), float(v)) for t, v in points)

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()


def _first(result: Result) -> float | None:
    """The value of the first series of an instant vector, or None when it is empty."""
    return float(result[0]["value"][1]) if result else None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
