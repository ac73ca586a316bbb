"""Metrics adapters: golden signals per color from Prometheus."""

from turnout.backend.metrics.prometheus import PrometheusMetrics, escape_label, render_query

__all__ = ["PrometheusMetrics", "escape_label", "render_query"]
