"""What the guard exports about releases, read from the cluster's own records.

Deploys run in short-lived processes (a pipeline's `turnout deploy`), so nothing of theirs can
be scraped. Their truth is in the cluster: the release totals kept with each app's history
(`release/totals.py`), the deploy in flight (its flow record), the routing objects' weights
and the guard's state and report on the live Service. Like kube-state-metrics, every guard
replica reads those records each interval and exports what they say, so:

- the counters (`turnout_deploys_total`, `turnout_deploy_rollbacks_total`, the histograms)
  are the records' counts: they survive a restart or a change of leader, and two replicas
  export the same values (aggregate with `max by`, not `sum`, across replicas);
- every app in scope exports every outcome, at 0 until it happens, so a first rollback is an
  increase and not a series appearing from nowhere;
- the gauges are the state when last read; `turnout_delivery_read_timestamp_seconds` says
  when, and `turnout_delivery_read_errors_total` counts reads that failed (the previous
  state is kept until a read succeeds).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import msgspec
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from turnout.backend.errors import TurnoutError
from turnout.backend.models import App, Color
from turnout.backend.release.totals import OUTCOMES, Histogram, Totals

if TYPE_CHECKING:
    from turnout.backend.service import ReleaseService

log = logging.getLogger(__name__)
COLORS: tuple[Color, ...] = ("blue", "green")
GUARD_STATES = ("armed", "tripped", "disarmed")
VERDICT_OUTCOMES = ("pass", "fail", "inconclusive", "error")


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """The release records of the apps in scope, as read at `read_at` (unix seconds)."""

    apps: tuple[App, ...]
    totals: tuple[Totals, ...]
    read_at: float


async def read_delivery(service: ReleaseService, names: list[str], namespace: str | None) -> Delivery:
    """The records of `names` (every app when empty) in `namespace` (every one when None)."""
    apps = await service.cluster.list_apps(namespace)
    totals = await service.release_records().totals(namespace)
    wanted = set(names)
    return Delivery(apps=tuple(a for a in apps if not wanted or a.name in wanted),
                    totals=tuple(t for t in totals if not wanted or t.app in wanted),
                    read_at=time.time())


class DeliveryCollector(Collector):
    """The latest `Delivery` as Prometheus metric families (a prometheus-client custom collector)."""

    def __init__(self) -> None:
        self.latest: Delivery | None = None
        self.errors = 0

    async def refresh(self, service: ReleaseService, names: list[str], namespace: str | None) -> None:
        """Read the records again; a failure is counted and logged, and the last state kept."""
        try:
            self.latest = await read_delivery(service, names, namespace)
        except TurnoutError as err:
            self.errors += 1
            log.warning("release records not read for /metrics: %s", err)

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily("turnout_delivery_read_errors",
                                  "Reads of the release records that failed", value=self.errors)
        if self.latest is not None:
            yield GaugeMetricFamily("turnout_delivery_read_timestamp_seconds",
                                    "Unix time the release records were last read", value=self.latest.read_at)
            yield from families(self.latest)


def families(delivery: Delivery) -> Iterator[Metric]:
    """Every metric family of `delivery` (pure)."""
    yield from _state(delivery.apps)
    yield from _slots(delivery.apps)
    yield from _counts(delivery)


def _state(apps: tuple[App, ...]) -> Iterator[Metric]:
    key = ["namespace", "app"]
    live = GaugeMetricFamily("turnout_app_live_color", "1 for the app's live color", labels=[*key, "color"])
    weight = GaugeMetricFamily("turnout_traffic_weight_ratio", "Share of the app's traffic per color (0-1)",
                               labels=[*key, "color"])
    step = GaugeMetricFamily("turnout_canary_step", "The canary's step in the app's plan (1-based); "
                             "0 when no traffic is on the canary, -1 when its weight is off the plan",
                             labels=key)
    steps = GaugeMetricFamily("turnout_canary_steps", "Steps in the app's canary plan", labels=key)
    flight = GaugeMetricFamily("turnout_deploy_in_progress", "1 while a deploy of the app is in flight",
                               labels=key)
    started = GaugeMetricFamily("turnout_deploy_started_timestamp_seconds",
                                "Unix time the deploy in flight started", labels=key)
    guard = GaugeMetricFamily("turnout_guard_state", "1 for the app's guard state (from the cluster)",
                              labels=[*key, "state"])
    verdict = GaugeMetricFamily("turnout_guard_verdict", "1 for each signal's latest outcome as the guard "
                                "published it", labels=[*key, "color", "signal", "outcome"])
    for app in apps:
        ids = [app.namespace, app.name]
        for color in COLORS:
            live.add_metric([*ids, color], 1 if app.traffic.live == color else 0)
            weight.add_metric([*ids, color], app.traffic.weights.of(color) / 100)
        on_step = app.traffic.step
        step.add_metric(ids, 0 if app.traffic.canary_weight == 0 else -1 if on_step is None else on_step + 1)
        steps.add_metric(ids, len(app.traffic.plan))
        flight.add_metric(ids, 1 if app.deploy is not None else 0)
        if app.deploy is not None:
            started.add_metric(ids, app.deploy.started_at.timestamp())
        for state in GUARD_STATES:
            guard.add_metric([*ids, state], 1 if app.guard == state else 0)
        for v in app.guard_report.verdicts if app.guard_report else ():
            for outcome in VERDICT_OUTCOMES:
                verdict.add_metric([*ids, v.color, v.signal, outcome], 1 if v.outcome == outcome else 0)
    yield from (live, weight, step, steps, flight, started, guard, verdict)


def _slots(apps: tuple[App, ...]) -> Iterator[Metric]:
    labels = ["namespace", "app", "color"]
    ready = GaugeMetricFamily("turnout_slot_pods_ready", "Ready pods per color", labels=labels)
    desired = GaugeMetricFamily("turnout_slot_pods_desired", "Desired replicas per color", labels=labels)
    restarts = GaugeMetricFamily("turnout_slot_container_restarts", "Container restarts of the color's "
                                 "current pods (falls when pods are replaced)", labels=labels)
    for app in apps:
        for color in COLORS:
            slot, ids = app.slot(color), [app.namespace, app.name, color]
            ready.add_metric(ids, slot.ready)
            desired.add_metric(ids, slot.desired)
            restarts.add_metric(ids, sum(pod.restarts for pod in slot.pods))
    yield from (ready, desired, restarts)


def _counts(delivery: Delivery) -> Iterator[Metric]:
    key = ["namespace", "app"]
    deploys = CounterMetricFamily("turnout_deploys", "Finished deploys by outcome (from the release records)",
                                  labels=[*key, "outcome"])
    rollbacks = CounterMetricFamily("turnout_deploy_rollbacks", "Deploys rolled back, by the signals that "
                                    "failed (`operator`: none did)", labels=[*key, "trigger"])
    histograms = {
        "duration": HistogramMetricFamily("turnout_deploy_duration_seconds", "Deploys from start to finish",
                                          labels=key),
        "restore": HistogramMetricFamily("turnout_deploy_restore_seconds", "Rolled back or aborted deploys: "
                                         "first traffic on the new version to traffic restored", labels=key),
        "rollback": HistogramMetricFamily("turnout_deploy_rollback_seconds", "Rolled back deploys: failing "
                                          "verdict to traffic restored", labels=key),
        "lead_time": HistogramMetricFamily("turnout_deploy_lead_time_seconds",
                                           "Promoted deploys with a commit time: commit to promotion",
                                           labels=key),
    }
    counted = {(t.namespace, t.app): t for t in delivery.totals}
    for app in delivery.apps:
        counted.setdefault((app.namespace, app.name), Totals(namespace=app.namespace, app=app.name))
    for (namespace, name), totals in sorted(counted.items()):
        ids = [namespace, name]
        for outcome in OUTCOMES:
            deploys.add_metric([*ids, outcome], totals.outcomes.get(outcome, 0))
        for trigger, count in sorted(totals.rollbacks.items()):
            rollbacks.add_metric([*ids, trigger], count)
        for field_name, family in histograms.items():
            histogram: Histogram = getattr(totals, field_name)
            family.add_metric(ids, _buckets(histogram), histogram.sum)
    yield from (deploys, rollbacks, *histograms.values())


def _buckets(histogram: Histogram) -> list[tuple[str, float]]:
    return [*((f"{bound:g}", float(n)) for bound, n in zip(histogram.bounds, histogram.buckets, strict=True)),
            ("+Inf", float(histogram.count))]
