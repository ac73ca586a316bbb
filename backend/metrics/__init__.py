"""Metrics adapters: golden signals per color from Prometheus.

`PrometheusMetrics` is imported when first asked for: its client library (requests,
urllib3) costs a third of a second, and the demo and the guard's PromQL helpers need none of it.
"""

from typing import TYPE_CHECKING

from turnout.backend.lazy import exports
from turnout.backend.metrics.promql import DEFAULT_QUERIES, escape_label, render_query

if TYPE_CHECKING:
    from turnout.backend.metrics.prometheus import PrometheusMetrics

__all__ = ["DEFAULT_QUERIES", "PrometheusMetrics", "escape_label", "render_query"]


__getattr__ = exports(__name__, {"PrometheusMetrics": "prometheus"})
