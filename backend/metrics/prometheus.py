"""Prometheus as the `MetricsPort`: error rate, p95 latency and request rate per color.

Instant queries go over httpx because the guard must see Prometheus' `warnings`,
which prometheus-api-client drops; chart series use prometheus-api-client's range
query, run off the event loop since it is synchronous. Label values are escaped
before they enter a query, so no app or namespace name can change its structure.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from string import Template
from typing import Any

import httpx
from prometheus_api_client import PrometheusConnect

from turnout.backend.errors import InvalidInput, Unavailable
from turnout.backend.models import COLORS, App, Color, ColorMetrics
from turnout.backend.signals import PromSample

SELECTOR = 'app="$app",color="$color"'
DEFAULT_QUERIES = {
    "error_rate": f'sum(rate(http_requests_total{{{SELECTOR},code=~"5.."}}[$window]))'
                  f" / sum(rate(http_requests_total{{{SELECTOR}}}[$window]))",
    "requests": f"sum(increase(http_requests_total{{{SELECTOR}}}[$window]))",
    "p95_ms": f"1000 * histogram_quantile(0.95, sum by (le) "
              f"(rate(http_request_duration_seconds_bucket{{{SELECTOR}}}[$window])))",
    "rps": f"sum(rate(http_requests_total{{{SELECTOR}}}[$window]))",
}
"""Templates ($app, $namespace, $color, $window) fitting the lab's demo service."""


def escape_label(value: str) -> str:
    """A PromQL double-quoted string body: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_query(template: str, app: App | None = None, color: Color = "blue", *,
                 name: str = "", namespace: str = "", window: str = "10s") -> str:
    """Fill a query template with escaped label values."""
    values = {"app": name or (app.name if app else ""),
              "namespace": namespace or (app.namespace if app else ""),
              "color": color, "window": window}
    try:
        return Template(template).substitute({k: escape_label(v) for k, v in values.items()})
    except (KeyError, ValueError) as err:
        raise InvalidInput(f"PromQL template {template!r}: {err}") from None


class PrometheusMetrics:
    """Golden signals from a Prometheus server."""

    def __init__(self, url: str, *, timeout: float = 5.0, window: str = "10s",
                 queries: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.window = window
        self.queries = {**DEFAULT_QUERIES, **(queries or {})}
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout)

    def query_for(self, signal: str, app: App, color: Color) -> str:
        """The PromQL this adapter runs for `signal` of `color`."""
        return render_query(self.queries[signal], app, color, window=self.window)

    async def instant(self, query: str) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        """Run an instant query; `Unavailable` when Prometheus cannot answer."""
        try:
            response = await self._http.get("/api/v1/query", params={"query": query})
            body = response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise Unavailable(f"Prometheus at {self.url} unavailable: {type(err).__name__}") from err
        if body.get("status") != "success":
            raise Unavailable(f"Prometheus rejected a query: {body.get('error', response.status_code)}")
        return list(body["data"]["result"]), tuple(body.get("warnings") or ())

    async def sample(self, app: App, color: Color, signal: str = "error_rate") -> PromSample:
        """One signal of one color, with its request count and freshness, for the guard."""
        query = self.query_for(signal, app, color)
        (result, warnings), (requests, _) = await asyncio.gather(
            self.instant(query), self.instant(self.query_for("requests", app, color)))
        value, stamp = _first(result)
        count, _ = _first(requests)
        return PromSample(query=query, value=value, requests=count, sampled_at=stamp,
                          warnings=warnings)

    async def golden_signals(self, app: App) -> tuple[ColorMetrics, ...]:
        return tuple(await asyncio.gather(*(self._color(app, c) for c in COLORS)))

    async def _color(self, app: App, color: Color) -> ColorMetrics:
        names = ("error_rate", "p95_ms", "rps")
        answers = await asyncio.gather(*(self.instant(self.query_for(n, app, color)) for n in names))
        values = [_finite(_first(result)[0]) for result, _ in answers]
        return ColorMetrics(color=color, error_rate=values[0], p95_ms=values[1], rps=values[2])

    async def series(self, app: App, color: Color, signal: str,
                     minutes: int) -> tuple[tuple[float, float], ...]:
        if signal not in self.queries:
            raise InvalidInput(f"signal {signal!r}: expected one of {', '.join(self.queries)}")
        query = self.query_for(signal, app, color)
        end = datetime.now(UTC)
        client = PrometheusConnect(self.url, disable_ssl=True, timeout=math.ceil(self.timeout))
        try:
            result = await asyncio.to_thread(client.custom_query_range, query,
                                             end - timedelta(minutes=minutes), end, "15s")
        except Exception as err:  # requests/urllib3 errors of every kind mean the same here
            raise Unavailable(f"Prometheus at {self.url} unavailable: {type(err).__name__}") from err
        points = result[0]["values"] if result else []
        return tuple((float(t), float(v)) for t, v in points)

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()


def _first(result: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """(value, unix time) of the first series of an instant vector, or (None, None)."""
    if not result:
        return None, None
    stamp, value = result[0]["value"]
    return float(value), float(stamp)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
