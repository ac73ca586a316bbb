"""Turnout's Prometheus alert rules, from this one source.

`make monitoring` writes `turnout-rules.yml` (a plain rules file for `rule_files:`),
`turnout-prometheusrule.yaml` (the same group as a Prometheus Operator PrometheusRule) and
`turnout-servicemonitors.yaml` (the Operator's scrape of the guard's and the OFREP server's
`/metrics`, whose series the rules read);
tests/ops checks both are current and runs `promtool check rules` and `promtool test rules`
(`turnout-rules.test.yml`) on them.

The metric names are the guard's (backend/guard/telemetry.py, and the release records it
exports: backend/guard/delivery.py), the OFREP server's (backend/flags/ofrep_server.py) and
the app's own request metrics (`http_requests_total`, `http_request_duration_seconds_bucket`,
labelled `app` and `color`, as backend/metrics/promql.py reads them). The SLO alerts look at
the color the guard watches (`turnout_guard_watched_color == 1`): the live color, or the
canary mid-rollout.

Usage: python deploy/monitoring/rules.py [--runbook-base URL] [--check]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
RULES_FILE = HERE / "turnout-rules.yml"
OPERATOR_FILE = HERE / "turnout-prometheusrule.yaml"
MONITORS_FILE = HERE / "turnout-servicemonitors.yaml"
SCRAPED = {"turnout-guard": "turnout-guard-metrics", "turnout-ofrep": "turnout-ofrep"}
"""The pods' `app.kubernetes.io/name` → the Service (deploy/guard.yaml, deploy/flags.yaml) to scrape."""
GROUP = "turnout"
RUNBOOK_BASE = "docs/runbooks/"
"""Relative to the repository by default; pass --runbook-base with where your docs are served."""

# The color the guard evaluates, one series per app and color; `max by` because every
# guard replica exports it and the app's own series carry no namespace label in every setup.
WATCHED = "max by (app, color) (turnout_guard_watched_color) == 1"
# Every guard replica exports the same release records: `max by` the record's own labels first,
# so two replicas never count a deploy twice.
DEPLOYS_30D = 'max by (namespace, app, outcome) (increase(turnout_deploys_total{{outcome=~"{}"}}[30d]))'


@dataclass(frozen=True)
class Alert:
    """One alert rule; its runbook is docs/runbooks/<name>.md."""

    name: str
    expr: str
    summary: str
    description: str
    for_: str = "0m"
    severity: str = "page"

    def rule(self, runbook_base: str) -> dict[str, object]:
        rule: dict[str, object] = {"alert": self.name, "expr": self.expr}
        if self.for_ != "0m":
            rule["for"] = self.for_
        rule["labels"] = {"severity": self.severity, "team": "turnout"}
        rule["annotations"] = {"summary": self.summary, "description": self.description,
                               "runbook_url": f"{runbook_base}{self.name}.md"}
        return rule


ALERTS: tuple[Alert, ...] = (
    Alert(
        name="TurnoutLatencyP95High",
        expr=("1000 * histogram_quantile(0.95, sum by (app, color, le) "
              "(rate(http_request_duration_seconds_bucket[5m])))\n"
              f"  > 200\nand on (app, color) ({WATCHED})"),
        for_="5m",
        summary="{{ $labels.app }} ({{ $labels.color }}): p95 latency above 200 ms",
        description="p95 latency of the watched color is {{ $value | humanize }} ms (SLO: 200 ms).",
    ),
    Alert(
        name="TurnoutErrorRateHigh",
        expr=('(sum by (app, color) (rate(http_requests_total{code=~"5.."}[5m]))\n'
              "  / sum by (app, color) (rate(http_requests_total[5m])))\n"
              f"  > 0.001\nand on (app, color) ({WATCHED})"),
        for_="5m",
        summary="{{ $labels.app }} ({{ $labels.color }}): error rate above 0.1 %",
        description="5xx ratio of the watched color is {{ $value | humanizePercentage }} (SLO: 0.1 %).",
    ),
    Alert(
        name="TurnoutRollback",
        # A labelled counter appears at its first rollback (value 1), which increase() cannot
        # see; a series that did not exist 15 minutes ago is a rollback too.
        expr=("increase(turnout_guard_rollbacks_total[15m]) > 0\n"
              "or (turnout_guard_rollbacks_total unless turnout_guard_rollbacks_total offset 15m)"),
        severity="ticket",
        summary="The guard rolled {{ $labels.namespace }}/{{ $labels.app }} back",
        description="Triggers that failed: {{ $labels.reason }}.",
    ),
    Alert(
        name="TurnoutGuardHoldingUnknown",
        expr=('sum by (namespace, app) (increase(turnout_guard_evaluations_total{decision="unknown"}[5m]))'
              " > 0"),
        for_="10m",
        summary="The guard holds {{ $labels.namespace }}/{{ $labels.app }} on unknown signals",
        description="A measurement source has been unreachable for 10 minutes: the guard can neither "
                    "pass nor fail this app, so a bad release would not be rolled back.",
    ),
    Alert(
        name="TurnoutGuardNotEvaluating",
        expr=("time() - max(turnout_guard_last_evaluation_timestamp_seconds) > 60\n"
              "and on () max(turnout_guard_leader) == 1"),
        for_="2m",
        summary="The guard has a leader but evaluates nothing",
        description="The newest evaluation of any app is {{ $value | humanizeDuration }} old.",
    ),
    Alert(
        name="TurnoutGuardNoLeader",
        # `or vector(0)`: no guard scraped at all is no leader either.
        expr="(max(turnout_guard_leader) or vector(0)) < 1",
        for_="2m",
        summary="No guard replica holds the leader lease",
        description="Nobody watches the releases: no automatic rollback will happen.",
    ),
    Alert(
        name="TurnoutDeployRolledBack",
        # Every app in the guard's scope exports each outcome from 0, so its first rollback is an
        # increase too.
        expr=('max by (namespace, app, outcome) '
              '(increase(turnout_deploys_total{outcome=~"rolled-back|failed"}[15m])) > 0'),
        severity="ticket",
        summary="A deploy of {{ $labels.namespace }}/{{ $labels.app }} ended {{ $labels.outcome }}",
        description="The release flow restored the previous color (rolled-back: a verdict failed; "
                    "failed: Turnout could not carry the flow out).",
    ),
    Alert(
        name="TurnoutChangeFailureRateHigh",
        expr=(f'sum({DEPLOYS_30D.format("rolled-back|aborted")})\n'
              f'  / sum({DEPLOYS_30D.format("promoted|rolled-back|aborted")})\n  > 0.05'),
        for_="1h",
        severity="ticket",
        summary="Change failure rate above 5 % over 30 days",
        description="{{ $value | humanizePercentage }} of the deploys of the last 30 days were rolled back "
                    "or aborted (target: under 5 %).",
    ),
    Alert(
        name="TurnoutDeployTooLong",
        expr="time() - max by (namespace, app) (turnout_deploy_started_timestamp_seconds) > 600",
        severity="ticket",
        summary="The deploy of {{ $labels.namespace }}/{{ $labels.app }} has run over 10 minutes",
        description="In flight for {{ $value | humanizeDuration }} (target: under 10 minutes).",
    ),
    Alert(
        name="TurnoutCanaryStuck",
        expr=("min by (namespace, app) (turnout_traffic_weight_ratio) > 0\n"
              "unless on (namespace, app) max by (namespace, app) (turnout_deploy_in_progress) == 1"),
        for_="1h",
        severity="ticket",
        summary="{{ $labels.namespace }}/{{ $labels.app }} has split traffic with no deploy in flight",
        description="Both colors have had traffic for an hour and no deploy is carrying the canary on: "
                    "it was left half-way.",
    ),
    Alert(
        name="TurnoutFlagStoreStale",
        expr='max by (store) (turnout_flag_store_state{state=~"stale|not_ready"}) == 1',
        for_="5m",
        summary="The flag store {{ $labels.store }} is unreachable: flags are served from an old snapshot",
        description="Flag changes (kill switches included) do not reach the applications until it answers.",
    ),
    Alert(
        name="TurnoutFlagStoreReset",
        expr='max by (store) (turnout_flag_store_state{state="error"}) == 1',
        for_="1m",
        summary="The flag store {{ $labels.store }} was reset: its flags are gone",
        description="Readers keep the last snapshot; every flag write is refused until the flags are "
                    "restored or the empty store is accepted.",
    ),
)


def group(runbook_base: str = RUNBOOK_BASE) -> dict[str, object]:
    return {"name": GROUP, "rules": [a.rule(runbook_base) for a in ALERTS]}


def rules_file(runbook_base: str = RUNBOOK_BASE) -> str:
    return _dump({"groups": [group(runbook_base)]})


def prometheus_rule(runbook_base: str = RUNBOOK_BASE) -> str:
    manifest = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "turnout", "namespace": "turnout-system",
                     "labels": {"app.kubernetes.io/name": "turnout", "role": "alert-rules"}},
        "spec": {"groups": [group(runbook_base)]},
    }
    return _dump(manifest)


def service_monitors() -> str:
    """One ServiceMonitor per Service of deploy/guard.yaml and deploy/flags.yaml (port `http`)."""
    monitors = [{
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": "turnout-system",
                     "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "turnout"}},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                 "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}]},
    } for name in SCRAPED]
    header = "# Generated by deploy/monitoring/rules.py (make monitoring); do not edit.\n"
    return header + yaml.safe_dump_all(monitors, sort_keys=False)


class _Dumper(yaml.SafeDumper):
    """Multi-line PromQL as literal blocks, readable in review."""


def _block(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_Dumper.add_representer(str, _block)


def _dump(doc: object) -> str:
    header = "# Generated by deploy/monitoring/rules.py (make monitoring); do not edit.\n"
    return header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runbook-base", default=RUNBOOK_BASE)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files differ")
    args = parser.parse_args(argv)
    wanted = {RULES_FILE: rules_file(args.runbook_base), OPERATOR_FILE: prometheus_rule(args.runbook_base),
              MONITORS_FILE: service_monitors()}
    if args.check:
        stale = [p.name for p, text in wanted.items() if not p.exists() or p.read_text() != text]
        if stale:
            print(f"stale: {', '.join(stale)} (run make monitoring)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in wanted.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
