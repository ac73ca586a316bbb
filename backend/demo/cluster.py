"""The demo cluster adapter: `ClusterPort` over the simulated world.

Writes are conditional on revisions exactly like the Kubernetes adapter, and
pass the same `WriteGate`, so the demo rehearses conflicts and read-only mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from turnout.backend.config import Conventions
from turnout.backend.demo.world import DemoWorld, SimApp, SimSlot
from turnout.backend.errors import Conflict, InvalidInput, NotFound, Unavailable
from turnout.backend.gate import WriteGate
from turnout.backend.models import (
    COLORS,
    App,
    ClusterEvent,
    Color,
    GuardReport,
    Pod,
    PodDetail,
    Slot,
    Traffic,
)

if TYPE_CHECKING:  # the checklist's rules are loaded when an app's checklist is read
    from turnout.backend.checklist import Manifests
    from turnout.backend.guard.recording import IncidentRecord


class DemoCluster:
    """A `ClusterPort` whose cluster lives in this process."""

    def __init__(self, world: DemoWorld, gate: WriteGate, *, tick_seconds: float = 1.0,
                 keep: Callable[[], None] | None = None) -> None:
        self.world = world
        self.gate = gate
        self.tick_seconds = tick_seconds
        self._subscribers: set[asyncio.Queue[tuple[str, str]]] = set()
        self._clock: asyncio.Task[None] | None = None
        self._ticked = time.monotonic()
        """When the running clock last ticked the world (monotonic)."""
        self.outage_until = float("-inf")
        self._keep = keep
        """Writes the world where the next run finds it (the CLI's demo), after each change."""
        self.documents: dict[tuple[str, str], tuple[int, bytes]] = {}
        """Named documents ((namespace, name) -> (revision, bytes)) other packages keep
        beside an app, as ConfigMaps would hold them in a real cluster (release flows, history)."""

    @property
    def ticking(self) -> bool:
        """Whether the world's clock runs on its own (someone watches the change stream)."""
        return self._clock is not None and not self._clock.done()

    def now(self) -> datetime:
        """The demo's time: the world's, plus the wall time since its last tick while its clock
        runs (never a whole tick), so what happens between two ticks (an evaluation after the
        sample it reads, a rollback and its read-back) is seen in order, not at one instant."""
        if not self.ticking:
            return self.world.clock
        since = min(max(0.0, time.monotonic() - self._ticked), self.tick_seconds)
        return self.world.clock + timedelta(seconds=since)

    @property
    def context(self) -> str:
        return "demo"

    # --- reads ---------------------------------------------------------------

    def _reachable(self) -> None:
        """During an outage drill every call fails as an unreachable API server would."""
        if time.monotonic() < self.outage_until:
            raise Unavailable("demo API server unreachable (outage drill)")

    def outage(self, seconds: float) -> None:
        """Demo only: the API server is unreachable for the next `seconds` of wall time.

        Wall time, not the world's clock: the world only ticks while someone watches,
        and an outage is exactly when nobody can.
        """
        self.outage_until = time.monotonic() + seconds

    async def list_apps(self, namespace: str | None) -> tuple[App, ...]:
        self._reachable()
        return tuple(self._record(app) for (ns, _), app in sorted(self.world.apps.items())
                     if namespace is None or ns == namespace)

    async def get_app(self, name: str, namespace: str | None) -> App:
        self._reachable()
        return self._record(self._find(name, namespace))

    def _find(self, name: str, namespace: str | None) -> SimApp:
        matches = [app for (ns, n), app in self.world.apps.items()
                   if n == name and namespace in (None, ns)]
        if not matches:
            where = f" in namespace {namespace}" if namespace else ""
            raise NotFound(f"app {name!r} not found{where} (context demo)")
        if len(matches) > 1:
            raise InvalidInput(f"app {name!r} exists in several namespaces: pass -n")
        return matches[0]

    def _record(self, app: SimApp) -> App:
        return App(name=app.name, namespace=app.namespace, context="demo",
                   blue=self._slot(app.slots["blue"], app), green=self._slot(app.slots["green"], app),
                   traffic=Traffic(live=app.live, weights=app.weights, router=app.router,  # type: ignore[arg-type]
                                   plan=app.plan, revision=f"t{app.traffic_generation}"),
                   guard=app.guard, guard_report=app.guard_report, endpoints=dict(app.endpoints))

    def _slot(self, slot: SimSlot, app: SimApp) -> Slot:
        pods = tuple(self.world.pod_record(p) for p in slot.pods)
        ready = sum(p.ready for p in pods)
        return Slot(color=slot.color, version=slot.version,
                    image=f"registry.demo/{app.name}:{slot.version}", desired=slot.replicas,
                    ready=ready, available=ready, pods=pods, revision=f"s{slot.generation}")

    # --- watch ---------------------------------------------------------------

    async def changes(self) -> AsyncIterator[tuple[str, str]]:
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._subscribers.add(queue)
        if self._clock is None or self._clock.done():
            self._ticked = time.monotonic()
            self._clock = asyncio.create_task(self._run_clock())
        try:
            while True:
                key = await queue.get()
                self._reachable()
                yield key
        finally:
            self._subscribers.discard(queue)

    async def _run_clock(self) -> None:
        while self._subscribers:
            await asyncio.sleep(self.tick_seconds)
            self.world.tick(self.tick_seconds)
            self._ticked = time.monotonic()
            for key in self.world.apps:
                self._publish(key)

    def _changed(self, key: tuple[str, str]) -> None:
        """A write changed `key`'s app: tell the watchers, and keep the world."""
        self._publish(key)
        self.kept()

    def kept(self) -> None:
        """Keep the demo where the next run finds it (the CLI's demo), after a change."""
        if self._keep is not None:
            self._keep()

    def _publish(self, key: tuple[str, str]) -> None:
        for queue in self._subscribers:
            queue.put_nowait(key)

    # --- writes --------------------------------------------------------------

    def _mutate(self, app: App, what: str, expected: str, actual: str, dry_run: bool) -> SimApp:
        """The choke point of every demo write: gate, then revision check."""
        self.gate.check(f"{what} on {app.namespace}/{app.name}")
        self._reachable()
        sim = self._find(app.name, app.namespace)
        if expected != actual:
            raise Conflict(f"{app.namespace}/{app.name} changed by someone else "
                           f"(revision {expected} read, now {actual}); re-read and retry")
        return sim

    async def write_traffic(self, app: App, target: Traffic, *, dry_run: bool) -> Traffic:
        sim = self._find(app.name, app.namespace)
        self._mutate(app, "traffic change", app.traffic.revision, f"t{sim.traffic_generation}", dry_run)
        if not dry_run:
            self.world.set_traffic(sim, target.live, target.weights)
            self._changed((sim.namespace, sim.name))
        return self._record(sim).traffic if not dry_run else target

    async def scale(self, app: App, color: Color, replicas: int, *, dry_run: bool) -> Slot:
        sim = self._find(app.name, app.namespace)
        slot = app.slot(color)
        self._mutate(app, f"scale {color}", slot.revision, f"s{sim.slots[color].generation}", dry_run)
        if not dry_run:
            self.world.scale(sim, color, replicas)
            self._changed((sim.namespace, sim.name))
        return self._slot(sim.slots[color], sim)

    async def set_image(self, app: App, color: Color, image: str, *, dry_run: bool) -> Slot:
        sim = self._find(app.name, app.namespace)
        slot = app.slot(color)
        self._mutate(app, f"set image of {color}", slot.revision,
                     f"s{sim.slots[color].generation}", dry_run)
        if not dry_run:
            self.world.set_version(sim, color, image.rpartition(":")[2] or image)
            self._changed((sim.namespace, sim.name))
        return self._slot(sim.slots[color], sim)

    async def fire_drill(self, app: App) -> Color:
        """Demo only: make the color taking new traffic fail, to rehearse a rollback."""
        self.gate.check(f"fire drill on {app.namespace}/{app.name}")
        sim = self._find(app.name, app.namespace)
        color = self.world.fire_drill(sim)
        self._changed((sim.namespace, sim.name))
        return color

    async def set_guard_state(self, app: App, state: str) -> None:
        """Record the guard's state where every reader of this world sees it."""
        self.gate.check(f"guard state of {app.namespace}/{app.name}")
        self._find(app.name, app.namespace).guard = state

    async def publish_guard_report(self, app: App, report: GuardReport) -> None:
        """Keep the guard's latest verdicts where every reader of this world sees them."""
        self.gate.check(f"guard report of {app.namespace}/{app.name}")
        self._find(app.name, app.namespace).guard_report = report

    async def record_incident(self, app: App, summary: str) -> None:
        """Keep the incident beside the app, as the cluster keeps an Event."""
        self._find(app.name, app.namespace).incidents.append(summary)

    async def save_incident(self, app: App, record: IncidentRecord) -> IncidentRecord:
        """Keep the incident's record and recording beside the app (`IncidentStore`)."""
        from turnout.backend.demo import incidents

        return incidents.save(self, record)

    async def incident_records(self, namespace: str | None) -> tuple[IncidentRecord, ...]:
        """The incident records kept in this world, oldest first."""
        from turnout.backend.demo import incidents

        return incidents.records(self, namespace)

    async def health(self, app: App, color: Color) -> bool:
        """Demo health check: a failing color answers 503."""
        self._reachable()
        return not self._find(app.name, app.namespace).slots[color].faulty

    async def events(self, app: App, limit: int = 20) -> tuple[ClusterEvent, ...]:
        """The simulated pods' events, oldest first."""
        self._reachable()
        return tuple(self.world.events(self._find(app.name, app.namespace))[-limit:])

    async def log_lines(self, app: App, color: Color, limit: int = 100) -> list[str]:
        """Demo logs of a color's pods."""
        self._reachable()
        return self.world.log_lines(self._find(app.name, app.namespace), color, limit)

    async def pod_detail(self, app: App, pod: Pod, log_lines: int = 20) -> PodDetail:
        """A simulated pod in depth; NotFound once the demo's ReplicaSet replaced it."""
        self._reachable()
        sim = self._find(app.name, app.namespace)
        if not any(p.name == pod.name for s in sim.slots.values() for p in s.pods):
            raise NotFound(f"pod {app.namespace}/{pod.name} is gone")
        return self.world.pod_detail(sim, pod.name, log_lines)

    async def manifests(self, app: App) -> Manifests:
        """The simulated app's objects in the production shape; `checkout` has no
        PodDisruptionBudget, so the demo shows what a failing checklist looks like."""
        from turnout.backend.demo.manifests import app_objects, manifests

        self._reachable()
        sim = self._find(app.name, app.namespace)
        versions = {c: sim.slots[c].version for c in COLORS}
        objects = app_objects(sim.name, versions, Conventions(), live=sim.live)
        if sim.name == "checkout":
            objects = [o for o in objects if o["kind"] != "PodDisruptionBudget"]
        return manifests(sim.name, sim.namespace, sim.live, objects)

    async def close(self) -> None:
        self.kept()
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
