"""Turnout's Grafana dashboard, as code (grafana-foundation-sdk), written to turnout-dashboard.json.

`make monitoring` writes it beside the alert rules; tests/ops renders it, checks the committed
file is current, and runs every panel's query against the lab's Prometheus.

Rows: the app chosen in `$app`, both colors side by side (error rate, p95, request rate), with
the guard's rollbacks and watched-color changes as annotations; then the guard itself.
Ready pods and restarts need kube-state-metrics, and the delivery figures (deploy frequency,
lead time, change failure rate, restore time) need an exporter of the release history: neither
exists here yet, so neither has a panel.

Usage: python deploy/monitoring/dashboard.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

HERE = Path(__file__).resolve().parent
DASHBOARD_FILE = HERE / "turnout-dashboard.json"
PROM = DataSourceRef(type_val="prometheus", uid="${datasource}")
APP = 'app="$app"'
# An app that never failed exports no 5xx series: `or … * 0` keeps its colors at 0 %, not empty.
_ERRORS = f'sum by (color) (rate(http_requests_total{{{APP},code=~"5.."}}[$__rate_interval]))'
_REQUESTS = f"sum by (color) (rate(http_requests_total{{{APP}}}[$__rate_interval]))"


@dataclass(frozen=True)
class Chart:
    """One panel: a title, a PromQL query and how to show it."""

    title: str
    expr: str
    unit: str
    legend: str = "{{color}}"
    kind: str = "timeseries"
    per_app: bool = True
    """Whether the query reads the app's own series (the lab has them) or the guard's."""


APP_CHARTS = (
    Chart("Error rate by color", f"({_ERRORS} or {_REQUESTS} * 0) / {_REQUESTS}", "percentunit"),
    Chart("p95 latency by color", "1000 * histogram_quantile(0.95, sum by (color, le) "
          f"(rate(http_request_duration_seconds_bucket{{{APP}}}[$__rate_interval])))", "ms"),
    Chart("Requests per second by color", _REQUESTS, "reqps"),
)
GUARD_CHARTS = (
    Chart("Replicas leading", "sum(turnout_guard_leader)", "short", "leaders", "stat", False),
    Chart("Seconds since the newest evaluation",
          "time() - max(turnout_guard_last_evaluation_timestamp_seconds)", "s", "age", "stat", False),
    Chart("Evaluations by decision",
          "sum by (decision) (rate(turnout_guard_evaluations_total[$__rate_interval]))", "ops",
          "{{decision}}", per_app=False),
    Chart("Rollbacks by app and trigger",
          "sum by (namespace, app, reason) (increase(turnout_guard_rollbacks_total[1h]))", "short",
          "{{namespace}}/{{app}}: {{reason}}", per_app=False),
    Chart("Evaluation p95", "histogram_quantile(0.95, sum by (le) "
          "(rate(turnout_guard_evaluation_seconds_bucket[$__rate_interval])))", "s", "p95", per_app=False),
    Chart("Measurement errors by source",
          "sum by (source) (rate(turnout_guard_measurement_errors_total[$__rate_interval]))", "ops",
          "{{source}}", per_app=False),
)
ANNOTATIONS = (
    # A counter appears at its first rollback, which changes() cannot see: a new series counts too.
    ("Rollbacks", "red", f"changes(turnout_guard_rollbacks_total{{{APP}}}[2m]) > 0 or "
                         f"(turnout_guard_rollbacks_total{{{APP}}} unless turnout_guard_rollbacks_total"
                         f"{{{APP}}} offset 2m)"),
    ("Watched color changed", "blue", f"changes(turnout_guard_watched_color{{{APP}}}[2m]) > 0"),
)


def _panel(chart: Chart) -> timeseries.Panel | stat.Panel:
    panel = timeseries.Panel() if chart.kind == "timeseries" else stat.Panel()
    query = prometheus.Dataquery().expr(chart.expr).legend_format(chart.legend).range()
    return panel.title(chart.title).datasource(PROM).unit(chart.unit).with_target(query).height(8).span(8)


def build() -> db.Dashboard:
    board = (db.Dashboard("Turnout").uid("turnout").tags(["turnout"]).refresh("30s").time("now-6h", "now")
             .with_variable(db.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
             .with_variable(db.QueryVariable("app").label("App").datasource(PROM)
                            .query("label_values(http_requests_total, app)")))
    for name, color, expr in ANNOTATIONS:
        board = board.annotation(db.AnnotationQuery().name(name).datasource(PROM).expr(expr)
                                 .icon_color(color).enable(True))
    board = board.with_row(db.Row("$app: both colors"))
    for chart in APP_CHARTS:
        board = board.with_panel(_panel(chart))
    board = board.with_row(db.Row("The guard"))
    for chart in GUARD_CHARTS:
        board = board.with_panel(_panel(chart))
    return board


def render() -> str:
    return json.dumps(build().build(), cls=JSONEncoder, sort_keys=True, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file differs")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DASHBOARD_FILE.exists() or DASHBOARD_FILE.read_text() != text:
            print(f"stale: {DASHBOARD_FILE.name} (run make monitoring)", file=sys.stderr)
            return 1
        return 0
    DASHBOARD_FILE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
