"""The embedded demo environment: a simulated cluster with a clock.

Everything is driven by `tick(seconds)` and one seeded `random.Random`, so a
run with the same seed and the same ticks is reproduced exactly. The demo
adapters (`DemoCluster`, `DemoMetrics`) read and change this world.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from turnout.backend.models import (
    COLORS,
    ClusterEvent,
    Color,
    ContainerDetail,
    GuardReport,
    Pod,
    PodDetail,
    Weights,
    other,
)

EPOCH = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CRASH_INTERVAL = 12.0
"""Seconds between restarts of a crash-looping demo pod."""


class SimPod(msgspec.Struct):
    """A pod in the simulation; mutable, never leaves the demo package."""

    name: str
    color: Color
    created: float
    ready_after: float
    crashing: bool = False
    restarts: list[float] = msgspec.field(default_factory=list)
    next_crash: float = 0.0
    annotations: dict[str, str] = msgspec.field(default_factory=lambda: {"prometheus.io/scrape": "true"})


class SimSlot(msgspec.Struct):
    """One color's Deployment in the simulation."""

    color: Color
    version: str
    replicas: int
    pods: list[SimPod] = msgspec.field(default_factory=list)
    faulty: bool = False
    generation: int = 1

    @property
    def image_tag(self) -> str:
        return self.version


class SimApp(msgspec.Struct):
    """One blue/green app in the simulation."""

    name: str
    namespace: str
    base_rps: float
    slots: dict[Color, SimSlot]
    live: Color
    weights: Weights
    router: str
    plan: tuple[int, ...]
    traffic_generation: int = 1
    guard: str = "disarmed"
    incidents: list[str] = msgspec.field(default_factory=list)
    guard_report: GuardReport | None = None
    history: dict[Color, list[tuple[float, float, float, float]]] = msgspec.field(default_factory=dict)
    endpoints: dict[str, str] = msgspec.field(default_factory=dict)
    """Per-color base URLs, as the `turnout.dev/endpoints` annotation gives them (none seeded)."""


SEED_APPS: tuple[tuple[str, str, str, str, Color, int, str, tuple[int, ...], float], ...] = (
    # name, namespace, blue version, green version, live, canary %, router, plan, rps
    ("checkout", "shop", "1.4.2", "1.4.1", "blue", 0, "service", (10, 50, 100), 420.0),
    ("search", "search", "2.7.0", "2.8.0", "blue", 10, "nginx", (10, 25, 50, 100), 910.0),
    ("payments", "payments", "3.0.9", "3.1.0", "green", 0, "gateway", (5, 25, 50, 100), 180.0),
)


class DemoWorld:
    """Three apps whose pods start, get ready, crash-loop, and whose metrics move."""

    def __init__(self, seed: int = 7, replicas: int = 3) -> None:
        self.rng = random.Random(seed)
        self.now = 0.0
        self.apps: dict[tuple[str, str], SimApp] = {}
        self._pod_serial = 0
        for name, ns, blue, green, live, canary, router, plan, rps in SEED_APPS:
            slots: dict[Color, SimSlot] = {
                "blue": SimSlot(color="blue", version=blue, replicas=replicas),
                "green": SimSlot(color="green", version=green, replicas=replicas)}
            app = SimApp(name=name, namespace=ns, base_rps=rps, slots=slots, live=live,
                         weights=Weights.split(live, canary), router=router, plan=plan)
            self.apps[(ns, name)] = app
            for slot in slots.values():
                self._reconcile(app, slot, warm=True)
        for _ in range(30):
            self.tick(30.0)

    @property
    def pod_serial(self) -> int:
        """How many pods this world has made (names stay unique across a restore)."""
        return self._pod_serial

    def restore(self, now: float, pod_serial: int, rng: tuple[Any, ...], apps: list[SimApp]) -> None:
        """Become a world saved earlier (`turnout.backend.demo.state`)."""
        version, internal, gauss = rng
        self.rng = random.Random()
        self.rng.setstate((version, tuple(internal), gauss))
        self.now = now
        self._pod_serial = pod_serial
        self.apps = {(app.namespace, app.name): app for app in apps}

    @property
    def clock(self) -> datetime:
        """Wall time of the simulation."""
        return EPOCH + timedelta(seconds=self.now)

    def tick(self, seconds: float = 1.0) -> None:
        """Advance the simulation: pod lifecycles, restarts and metric samples."""
        self.now += seconds
        for app in self.apps.values():
            for slot in app.slots.values():
                self._advance_pods(slot)
            self._sample_metrics(app)

    def _new_pod(self, app: SimApp, slot: SimSlot, warm: bool) -> SimPod:
        self._pod_serial += 1
        suffix = "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        start = self.now - 3600 if warm else self.now
        pod = SimPod(name=f"{app.name}-{slot.color}-{slot.generation:x}{self._pod_serial:03d}-{suffix}",
                     color=slot.color, created=start,
                     ready_after=start + self.rng.uniform(2.0, 5.0), crashing=slot.faulty)
        pod.next_crash = self.now + self.rng.uniform(1.0, CRASH_INTERVAL)
        return pod

    def _reconcile(self, app: SimApp, slot: SimSlot, warm: bool = False) -> None:
        """Bring the pod count to the desired replicas, as a ReplicaSet would."""
        while len(slot.pods) < slot.replicas:
            slot.pods.append(self._new_pod(app, slot, warm))
        del slot.pods[slot.replicas:]

    def _advance_pods(self, slot: SimSlot) -> None:
        for pod in slot.pods:
            if pod.crashing and self.now >= pod.next_crash:
                pod.restarts.append(self.now)
                pod.next_crash = self.now + CRASH_INTERVAL * self.rng.uniform(0.8, 1.2)

    def _sample_metrics(self, app: SimApp) -> None:
        for color in COLORS:
            slot = app.slots[color]
            rps = app.base_rps * app.weights.of(color) / 100 * self.rng.uniform(0.92, 1.08)
            base_err = 0.35 if slot.faulty else 0.004
            err = max(0.0, base_err * self.rng.uniform(0.6, 1.4))
            p95 = (950.0 if slot.faulty else 110.0) * self.rng.uniform(0.85, 1.2)
            series = app.history.setdefault(color, [])
            series.append((self.now, err if rps > 0 else float("nan"), p95, rps))
            del series[:-900]

    # --- what the demo cluster adapter reads -------------------------------

    def pod_record(self, pod: SimPod) -> Pod:
        """The domain record of a simulated pod, as a pod watch would show it."""
        recent = [t for t in pod.restarts if self.now - t <= 300]
        crashing_now = pod.crashing and bool(pod.restarts)
        ready = self.now >= pod.ready_after and not crashing_now
        phase = "Running" if self.now >= pod.ready_after - 1.5 else "Pending"
        reason = "CrashLoopBackOff" if crashing_now else ("" if phase == "Running" else "ContainerCreating")
        return Pod(name=pod.name, color=pod.color, phase=phase, ready=ready,
                   restarts=len(pod.restarts), restarts_5m=len(recent), waiting_reason=reason,
                   started_at=EPOCH + timedelta(seconds=pod.created), node="demo-node-1")

    def pod_detail(self, app: SimApp, name: str, log_lines: int) -> PodDetail:
        """A simulated pod as `kubectl describe` would show it, with a log tail of its own
        (seeded by the pod and the second, so reading it leaves the world's dice alone)."""
        slot, pod = next((s, p) for s in app.slots.values() for p in s.pods if p.name == name)
        record = self.pod_record(pod)
        state = "waiting" if record.waiting_reason else "running"
        last = "Error" if pod.restarts else ""
        container = ContainerDetail(
            name=app.name, image=f"registry.demo/{app.name}:{slot.version}", ready=record.ready,
            restarts=record.restarts, state=state, reason=record.waiting_reason, last_reason=last,
            last_exit_code=1 if last else None)
        dice = random.Random(f"{name}:{int(self.now)}")
        error_rate = 0.35 if slot.faulty else 0.004
        logs = tuple(
            f"ERROR {name} request {i} failed: upstream reset" if dice.random() < error_rate
            else f"INFO {name} GET /api/items 200" for i in range(log_lines)
        ) if record.phase == "Running" else ()
        labels = {"app.kubernetes.io/name": app.name, "app.kubernetes.io/version": slot.version,
                  "turnout.dev/color": slot.color}
        return PodDetail(
            app=app.name, namespace=app.namespace, pod=record,
            ip=f"10.42.0.{sum(name.encode()) % 250 + 2}",
            labels=tuple(sorted(labels.items())),
            annotations=tuple(sorted(pod.annotations.items())),
            containers=(container,), conditions=(("Ready", str(record.ready)),),
            events=tuple(e for e in self.events(app) if e.object == f"Pod/{name}"), logs=logs,
            log_container=app.name,
            logs_note=("not asked for" if not log_lines else ""
                       if logs else "no log yet: the pod has not started"))

    # --- what the demo cluster adapter changes -----------------------------

    def set_traffic(self, app: SimApp, live: Color, weights: Weights) -> None:
        app.live, app.weights = live, weights
        app.traffic_generation += 1

    def scale(self, app: SimApp, color: Color, replicas: int) -> None:
        slot = app.slots[color]
        slot.replicas = replicas
        slot.generation += 1
        self._reconcile(app, slot)

    def set_version(self, app: SimApp, color: Color, version: str) -> None:
        """Roll `color` to `version`; a version containing "bad" crash-loops."""
        slot = app.slots[color]
        slot.version, slot.faulty = version, "bad" in version
        slot.generation += 1
        slot.pods.clear()
        self._reconcile(app, slot)

    def fire_drill(self, app: SimApp) -> Color:
        """Make the color receiving new traffic fail: errors spike, pods crash-loop."""
        color = other(app.live) if app.weights.of(other(app.live)) > 0 else app.live
        slot = app.slots[color]
        slot.faulty = True
        slot.generation += 1
        for pod in slot.pods:
            pod.crashing = True
            pod.next_crash = self.now + self.rng.uniform(0.5, 3.0)
        return color

    def log_lines(self, app: SimApp, color: Color, count: int = 100) -> list[str]:
        """The color's recent log lines, logged at the error rate of its newest metric sample:
        errors reach the logs as time passes, as they reach the metrics (without traffic, at
        the rate its state would give)."""
        newest = app.history.get(color, [])[-1:]
        error_rate = newest[0][1] if newest and math.isfinite(newest[0][1]) else \
            0.35 if app.slots[color].faulty else 0.004
        lines = []
        for i in range(count):
            if self.rng.random() < error_rate:
                lines.append(f"ERROR {app.name}-{color} request {i} failed: upstream reset")
            else:
                lines.append(f"INFO {app.name}-{color} GET /api/items 200")
        return lines

    def events(self, app: SimApp) -> list[ClusterEvent]:
        """What a kubelet and the controllers would have said about the app's pods lately."""
        found = []
        for slot in app.slots.values():
            for pod in slot.pods:
                if self.now - pod.created <= 900:
                    found.append(ClusterEvent(
                        at=EPOCH + timedelta(seconds=pod.created), type="Normal", reason="Scheduled",
                        object=f"Pod/{pod.name}", message=f"Successfully assigned {app.namespace}/"
                        f"{pod.name} to demo-node-1"))
                if pod.restarts:
                    found.append(ClusterEvent(
                        at=EPOCH + timedelta(seconds=pod.restarts[-1]), type="Warning",
                        reason="BackOff", object=f"Pod/{pod.name}", count=len(pod.restarts),
                        message=f"Back-off restarting failed container {app.name} in pod {pod.name}"))
        found.sort(key=lambda e: (e.at, e.object))
        return found

    def heal(self, app: SimApp) -> None:
        """End a fire drill: both colors healthy again, restart history kept."""
        for slot in app.slots.values():
            slot.faulty = False
            slot.generation += 1
            for pod in slot.pods:
                pod.crashing = False
