"""Metrics adapters: golden signals per color from Prometheus.

`PrometheusMetrics` is imported when first asked for: its client library (requests,
urllib3) costs a third of a second, and the demo and the guard's PromQL helpers need none of it.
"""

from typing import Any

from turnout.backend.metrics.promql import DEFAULT_QUERIES, escape_label, render_query

__all__ = ["DEFAULT_QUERIES", "PrometheusMetrics", "escape_label", "render_query"]


def __getattr__(name: str) -> Any:
    if name == "PrometheusMetrics":
        from turnout.backend.metrics.prometheus import PrometheusMetrics

        return PrometheusMetrics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
