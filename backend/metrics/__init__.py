"""Metrics adapters: golden signals per color from Prometheus."""

from turnout.backend.metrics.prometheus import PrometheusMetrics
from turnout.backend.metrics.promql import DEFAULT_QUERIES, escape_label, render_query

__all__ = ["DEFAULT_QUERIES", "PrometheusMetrics", "escape_label", "render_query"]
