"""The guard's Prometheus metrics (prometheus-client, a registry per guard, no globals).

"Guard not evaluating" is detectable from these alone: a leader whose newest
`turnout_guard_last_evaluation_timestamp_seconds` falls behind, e.g.
`turnout_guard_leader == 1 and on() time() - max(turnout_guard_last_evaluation_timestamp_seconds) > 30`,
or no replica with `turnout_guard_leader == 1` at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from turnout.backend.models import App

if TYPE_CHECKING:
    from turnout.backend.guard.engine import Evaluation
    from turnout.backend.guard.incident import Incident


class Telemetry:
    """Counters and gauges the guard updates as it evaluates, acts and leads."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.evaluations = Counter("turnout_guard_evaluations", "Evaluations by app and decision",
                                   ["namespace", "app", "decision"], registry=r)
        self.latency = Histogram("turnout_guard_evaluation_seconds", "Seconds one app's evaluation took",
                                 ["namespace", "app"], registry=r,
                                 buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
        self.last = Gauge("turnout_guard_last_evaluation_timestamp_seconds",
                          "Unix time of each app's last evaluation", ["namespace", "app"], registry=r)
        self.rollbacks = Counter("turnout_guard_rollbacks", "Rollbacks by app and the triggers that failed",
                                 ["namespace", "app", "reason"], registry=r)
        recovery = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
        self.detect = Histogram("turnout_guard_detect_seconds", "Guard rollbacks: first bad sample to "
                                "detection", ["namespace", "app"], registry=r, buckets=recovery)
        self.restore = Histogram("turnout_guard_restore_seconds", "Guard rollbacks: first bad sample to "
                                 "traffic restored (read back)", ["namespace", "app"], registry=r,
                                 buckets=recovery)
        self.leader = Gauge("turnout_guard_leader", "1 while this replica holds the leader lease",
                            registry=r)
        self.watched = Gauge("turnout_guard_watched_color",
                             "1 for the color the guard evaluates (the canary mid-rollout, else live)",
                             ["namespace", "app", "color"], registry=r)
        self.measurement_errors = Counter("turnout_guard_measurement_errors",
                                          "Measurements that could not be made, by source (signal)",
                                          ["source"], registry=r)

    def evaluated(self, result: Evaluation, seconds: float) -> None:
        """Count one evaluation and the measurements it could not make."""
        labels = {"namespace": result.namespace, "app": result.app}
        self.evaluations.labels(**labels, decision=result.decision).inc()
        self.latency.labels(**labels).observe(seconds)
        self.last.labels(**labels).set_to_current_time()
        if result.watched is not None:
            # Both colors get a value so the SLO alerts' join never sees a stale 1.
            for color in ("blue", "green"):
                self.watched.labels(**labels, color=color).set(1 if color == result.watched else 0)
        for verdict in result.verdicts:
            if verdict.outcome == "error":
                self.measurement_errors.labels(source=verdict.signal).inc()

    def rolled_back(self, app: App, reason: str, incident: Incident) -> None:
        """Count one rollback, labelled by the triggers that failed, and time its recovery."""
        labels = {"namespace": app.namespace, "app": app.name}
        self.rollbacks.labels(**labels, reason=reason).inc()
        self.detect.labels(**labels).observe(
            (incident.detected_at - incident.first_bad_at).total_seconds())
        if incident.restored_at is not None:
            self.restore.labels(**labels).observe(
                (incident.restored_at - incident.first_bad_at).total_seconds())

    def leading(self, yes: bool) -> None:
        """Whether this replica leads now."""
        self.leader.set(1 if yes else 0)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
