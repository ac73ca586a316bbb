"""Turnout's Grafana dashboard, as code (grafana-foundation-sdk), written to turnout-dashboard.json.

`make monitoring` writes it beside the alert rules; tests/ops renders it, checks the committed
file is current, and runs every panel's query against the lab's Prometheus.

Rows: the app chosen in `$app`, both colors side by side (error rate, p95, request rate, and
from the guard's export of the release records: traffic weight, ready pods, restarts and the
guard's verdicts), with
the guard's rollbacks, watched-color changes, finished deploys and flag changes as annotations;
the delivery figures across every app against the seed's targets (deploys a week, lead time,
change failure rate, time to restore, rollback time, deploy duration); then the guard itself.
The release records are exported by every guard replica alike, so the delivery queries take
`max by` the record's labels before summing.

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
from grafana_foundation_sdk.models.dashboard import DataSourceRef, Threshold, ThresholdsMode

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
    target: float | None = None
    """The seed's target: the stat turns red beyond it."""


APP_CHARTS = (
    Chart("Error rate by color", f"({_ERRORS} or {_REQUESTS} * 0) / {_REQUESTS}", "percentunit"),
    Chart("p95 latency by color", "1000 * histogram_quantile(0.95, sum by (color, le) "
          f"(rate(http_request_duration_seconds_bucket{{{APP}}}[$__rate_interval])))", "ms"),
    Chart("Requests per second by color", _REQUESTS, "reqps"),
)
RELEASE_CHARTS = (
    Chart("Traffic weight by color", f"max by (color) (turnout_traffic_weight_ratio{{{APP}}})",
          "percentunit"),
    Chart("Ready pods by color", f"max by (color) (turnout_slot_pods_ready{{{APP}}})", "short"),
    Chart("Container restarts by color (current pods)",
          f"max by (color) (turnout_slot_container_restarts{{{APP}}})", "short"),
    Chart("Guard verdicts failing by signal",
          f"sum by (signal) (max by (color, signal) (turnout_guard_verdict{{{APP},outcome=\"fail\"}}))",
          "short", "{{signal}}"),
)


def _recorded(metric: str, window: str, extra: str = "") -> str:
    """`metric`'s increase over `window`, one value per app however many replicas export it."""
    return f"max by (namespace, app{extra}) (increase({metric}[{window}]))"


def _quantile(q: float, histogram: str) -> str:
    return f"histogram_quantile({q}, sum by (le) ({_recorded(histogram + '_bucket', '30d', ', le')}))"


_DEPLOYS = "turnout_deploys_total{{outcome=~\"{}\"}}"
DELIVERY_ROW = ("Delivery, every app (targets: 5-10 deploys a week, under 5 % failed, 2 min rollback, "
                "10 min deploy)")
DELIVERY_CHARTS = (
    Chart("Deploys promoted in the last 7 days",
          f"sum({_recorded(_DEPLOYS.format('promoted'), '7d', ', outcome')})", "short", "deploys", "stat",
          False),
    Chart("Change failure rate, 30 days",
          f"sum({_recorded(_DEPLOYS.format('rolled-back|aborted'), '30d', ', outcome')}) / "
          f"sum({_recorded(_DEPLOYS.format('promoted|rolled-back|aborted'), '30d', ', outcome')})",
          "percentunit", "CFR", "stat", False, 0.05),
    Chart("Lead time (median), 30 days", _quantile(0.5, "turnout_deploy_lead_time_seconds"), "s",
          "median", "stat", False),
    Chart("Time to restore (median), 30 days", _quantile(0.5, "turnout_deploy_restore_seconds"), "s",
          "median", "stat", False),
    Chart("Rollback time (p95), 30 days", _quantile(0.95, "turnout_deploy_rollback_seconds"), "s",
          "p95", "stat", False, 120),
    Chart("Deploy duration (p95), 30 days", _quantile(0.95, "turnout_deploy_duration_seconds"), "s",
          "p95", "stat", False, 600),
    Chart("Deploys by outcome, per day",
          f"sum by (outcome) ({_recorded('turnout_deploys_total', '1d', ', outcome')})", "short",
          "{{outcome}}", per_app=False),
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
    ("Deploys finished", "purple", f"sum by (outcome) (max by (namespace, outcome) "
                                   f"(changes(turnout_deploys_total{{{APP}}}[2m]))) > 0"),
    ("Flag changes", "orange", "sum by (store, flag) (changes(turnout_flag_version[2m])) > 0"),
)


def _panel(chart: Chart) -> timeseries.Panel | stat.Panel:
    panel = timeseries.Panel() if chart.kind == "timeseries" else stat.Panel()
    query = prometheus.Dataquery().expr(chart.expr).legend_format(chart.legend).range()
    panel = panel.title(chart.title).datasource(PROM).unit(chart.unit).with_target(query).height(8).span(8)
    if chart.target is not None:
        steps = [Threshold(value=None, color="green"), Threshold(value=chart.target, color="red")]
        panel = panel.thresholds(db.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps))
    return panel


def build() -> db.Dashboard:
    board = (db.Dashboard("Turnout").uid("turnout").tags(["turnout"]).refresh("30s").time("now-6h", "now")
             .with_variable(db.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
             .with_variable(db.QueryVariable("app").label("App").datasource(PROM)
                            .query("label_values(http_requests_total, app)")))
    for name, color, expr in ANNOTATIONS:
        board = board.annotation(db.AnnotationQuery().name(name).datasource(PROM).expr(expr)
                                 .icon_color(color).enable(True))
    board = board.with_row(db.Row("$app: both colors"))
    for chart in (*APP_CHARTS, *RELEASE_CHARTS):
        board = board.with_panel(_panel(chart))
    board = board.with_row(db.Row(DELIVERY_ROW))
    for chart in DELIVERY_CHARTS:
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
