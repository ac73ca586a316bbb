"""The long-running guard: optional leader election among replicas, the HTTP endpoints, and
the guard's loop while this replica leads (at once without election)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from turnout.backend.errors import InvalidInput, TurnoutError
from turnout.backend.guard.delivery import DeliveryCollector
from turnout.backend.guard.endpoints import Endpoints, parse_listen
from turnout.backend.guard.engine import Evaluation, Guard
from turnout.backend.guard.leader import LeaderElector, check_timings, identity, lease_namespace
from turnout.backend.guard.ports import DISARMED, LeaseStore
from turnout.backend.guard.telemetry import Telemetry
from turnout.backend.sanitize import inert
from turnout.backend.tasks import cancel_and_wait

log = logging.getLogger(__name__)


@dataclass
class GuardDaemon:
    """Runs one guard replica until `stop`."""

    guard: Guard
    names: list[str]
    namespace: str | None
    say: Callable[[str], None] = lambda line: None
    on_result: Callable[[Evaluation], None] | None = None
    elector: LeaderElector | None = None
    telemetry: Telemetry = field(default_factory=Telemetry)
    last_result: float = field(default_factory=time.monotonic)
    """Monotonic time of the latest evaluation (or of the start of leading)."""

    @classmethod
    def build(cls, guard: Guard, names: list[str], namespace: str | None, *, leader_elect: bool,
              say: Callable[[str], None] = lambda line: None,
              on_result: Callable[[Evaluation], None] | None = None) -> GuardDaemon:
        """A replica of `guard`; with `leader_elect`, one that acts only while it holds the Lease."""
        daemon = cls(guard, names, namespace, say, on_result)
        guard.telemetry = daemon.telemetry
        if not leader_elect:
            return daemon
        settings = guard.settings
        check_timings(settings)
        store = guard.service.cluster
        if not isinstance(store, LeaseStore):
            raise InvalidInput("--leader-elect needs a Kubernetes cluster (Leases)")
        me = identity()
        daemon.elector = LeaderElector(store, lease_namespace(settings), settings.lease_name, me,
                                       settings.lease_duration, settings.renew_deadline,
                                       settings.retry_period, on_change=daemon.telemetry.leading)
        guard.may_act, guard.actor = daemon.elector.is_leader, me
        return daemon

    async def run(self, stop: asyncio.Event, listen: str = "") -> None:
        """Serve the endpoints (when `listen` is set) and guard until `stop`."""
        endpoints = Endpoints(self.live, self.ready, self.telemetry.exposition)
        records = None
        if listen:
            port = await endpoints.start(*parse_listen(listen))
            self.say(f"turnout: guard endpoints on port {port}: /healthz /readyz /metrics")
            records = asyncio.create_task(self._export_records(stop))
        try:
            if self.elector is None:
                self.telemetry.leading(True)
                await self._lead(stop)
            else:
                self.say(f"turnout: guard {inert(self.elector.me)} standing by for lease "
                         f"{inert(self.elector.namespace)}/{inert(self.elector.name)}")
                await self.elector.run(stop, self._lead)
        finally:
            if records is not None:
                await cancel_and_wait(records)
            await endpoints.close()

    async def _export_records(self, stop: asyncio.Event) -> None:
        """Every replica, leader or not, exports the release records each interval (`delivery.py`)."""
        collector = DeliveryCollector()
        self.telemetry.registry.register(collector)
        service = self.guard.service
        while not stop.is_set():
            await collector.refresh(service, self.names, self.namespace)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.guard.settings.interval)

    async def _lead(self, lost: asyncio.Event) -> None:
        """The guard's loop; `lost` ends it (the Lease lost, or the process stopping)."""
        self.last_result = time.monotonic()
        if self.elector is not None:
            self.say(f"turnout: guard {inert(self.elector.me)} leads")
        await self._arm_disarmed()
        await self.guard.run(self.names, self.namespace, lost, self._result)

    async def _arm_disarmed(self) -> None:
        """Starting the guard arms the apps it guards that are disarmed (not tripped ones)."""
        cluster = self.guard.service.cluster
        try:
            apps = [await cluster.get_app(name, self.namespace) for name in self.names] if self.names \
                else list(await cluster.list_apps(self.namespace))
        except TurnoutError as err:
            log.warning("guard: apps not read at start: %s", err)
            return
        for app in apps:
            state = app.guard
            if state == DISARMED and not self.guard.service.read_only and self.guard.may_act():
                with contextlib.suppress(TurnoutError):
                    await self.guard.arm(app.name, app.namespace)
                    state = "armed"
            self.say(f"turnout: guarding {inert(app.name)} ({state}) every "
                     f"{self.guard.settings.interval:g} s; Ctrl-C stops")

    def _result(self, result: Evaluation) -> None:
        self.last_result = time.monotonic()
        if self.on_result is not None:
            self.on_result(result)

    def live(self) -> tuple[bool, str]:
        """Alive: the loop answers this request, and a leader's evaluations keep coming."""
        leading = self.elector is None or self.elector.is_leader()
        stale = max(30.0, 5 * self.guard.settings.interval + 2 * self.guard.settings.evaluation_timeout)
        quiet = time.monotonic() - self.last_result
        if leading and self.guard.guarding and quiet > stale:
            return False, f"leader without an evaluation for {quiet:.0f} s"
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        """Ready: the leader, or a standby with a fresh view of the Lease."""
        if self.elector is None:
            return True, "guarding (no leader election)"
        if self.elector.is_leader():
            return True, f"leader {self.elector.me}"
        if self.elector.fresh():
            return True, f"standby; leader {self.elector.holder or 'none'}"
        return False, "standby without a fresh view of the lease"
