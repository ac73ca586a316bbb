"""Leader election among guard replicas over one Lease, as client-go's leaderelection does it.

A standby judges the Lease by its own clock: it takes the Lease over only after seeing the
same record (holder, renew time, resourceVersion) unchanged for the lease duration, so no
clock skew between replicas matters. Every write is conditional on the resourceVersion read.
The leader renews every retry period; if it has not renewed for the renew deadline (shorter
than the lease duration) it stops acting — `is_leader()` turns false by its own monotonic
clock even while its process was frozen — before any standby may take over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from turnout.backend.config import GuardSettings
from turnout.backend.errors import InvalidInput, TurnoutError
from turnout.backend.guard.ports import LeaseRecord, LeaseStore
from turnout.backend.tasks import cancel_and_wait

log = logging.getLogger(__name__)
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def identity() -> str:
    """This replica's holder identity: the host (the pod's name in a cluster) and a random part."""
    return f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def lease_namespace(settings: GuardSettings) -> str:
    """`guard.lease_namespace`, else the pod's own namespace, else `default`."""
    if settings.lease_namespace:
        return settings.lease_namespace
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE) as mounted:
            return mounted.read().strip() or "default"
    except OSError:
        return "default"


def check_timings(settings: GuardSettings) -> None:
    """Refuse timings that allow two leaders: retry < renew deadline < lease duration."""
    if not 0 < settings.retry_period < settings.renew_deadline < settings.lease_duration:
        raise InvalidInput("guard: expected 0 < retry_period < renew_deadline < lease_duration, got "
                           f"{settings.retry_period:g}, {settings.renew_deadline:g}, "
                           f"{settings.lease_duration:g}")


@dataclass
class LeaderElector:
    """Acquires, renews and gives up one Lease for this replica."""

    store: LeaseStore
    namespace: str
    name: str
    me: str
    lease_duration: float = 8.0
    renew_deadline: float = 5.0
    retry_period: float = 1.0
    clock: Callable[[], float] = time.monotonic
    on_change: Callable[[bool], None] = lambda leading: None
    renewed_at: float | None = None
    """Monotonic time of the last successful acquire or renew (None: not leading)."""
    seen_at: float | None = None
    """Monotonic time the Lease was last read or written successfully (a fresh view)."""
    observed: tuple[str, str] = ("", "")
    observed_at: float = field(default=0.0)
    holder: str = ""
    """The holder as last seen."""

    def is_leader(self) -> bool:
        """Whether this replica holds the Lease and renewed it within the renew deadline."""
        return self.renewed_at is not None and self.clock() - self.renewed_at < self.renew_deadline

    def fresh(self) -> bool:
        """Whether this replica read the Lease recently enough to know who leads."""
        return self.seen_at is not None and self.clock() - self.seen_at < self.lease_duration

    async def run(self, stop: asyncio.Event,
                  lead: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
        """Until `stop`: wait to acquire, then run `lead(lost)` while renewing; when the Lease is
        lost, set `lost`, stop `lead`, and stand by again. On `stop`, give the Lease up."""
        while not stop.is_set():
            if not await self._acquire(stop):
                break
            lost = asyncio.Event()
            work = asyncio.create_task(lead(lost))
            self.on_change(True)
            log.info("guard %s leads (lease %s/%s)", self.me, self.namespace, self.name)
            try:
                await self._renew(stop, work)
            finally:
                lost.set()
                self.on_change(False)
                await cancel_and_wait(work)
            if work.done() and not work.cancelled() and work.exception() is not None:
                log.error("guard work ended: %s", work.exception())
        await self._release()

    async def _acquire(self, stop: asyncio.Event) -> bool:
        while not stop.is_set():
            if await self._try():
                return True
            await _wait(stop, self.retry_period)
        return False

    async def _renew(self, stop: asyncio.Event, work: asyncio.Task[None]) -> None:
        while not stop.is_set() and not work.done():
            await _wait(stop, self.retry_period)
            if stop.is_set():
                return
            deadline = (self.renewed_at or self.clock()) + self.renew_deadline
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(self._try(), max(0.01, deadline - self.clock())):
                    continue
            if not self.is_leader() or self.holder != self.me:
                log.warning("guard %s lost the lease %s/%s", self.me, self.namespace, self.name)
                self.renewed_at = None
                return

    async def _try(self) -> bool:
        """One attempt to acquire or renew; True when this replica holds a renewed Lease."""
        now = self.clock()
        try:
            current = await self.store.read_lease(self.namespace, self.name)
            self.seen_at = self.clock()
            if current is not None and not self._may_take(current, now):
                return False
            record = self._mine(current)
            stored = await self.store.write_lease(self.namespace, self.name, record)
        except TurnoutError as err:  # Conflict (someone else wrote first) or the API server is out
            log.info("lease %s/%s not acquired or renewed: %s", self.namespace, self.name, err)
            return False
        self.holder, self.renewed_at, self.seen_at = stored.holder, now, self.clock()
        self.observed, self.observed_at = (stored.holder, stored.version), now
        return stored.holder == self.me

    def _may_take(self, current: LeaseRecord, now: float) -> bool:
        self.holder = current.holder
        if not current.holder or current.holder == self.me:
            return True
        if (current.holder, current.version) != self.observed:
            self.observed, self.observed_at = (current.holder, current.version), now
            return False
        return now - self.observed_at >= max(current.duration, self.lease_duration)

    def _mine(self, current: LeaseRecord | None) -> LeaseRecord:
        wall = datetime.now(UTC)
        if current is None:
            return LeaseRecord(holder=self.me, duration=self.lease_duration, acquired=wall, renewed=wall)
        taking = current.holder != self.me
        return msgspec.structs.replace(
            current, holder=self.me, duration=self.lease_duration, renewed=wall,
            acquired=wall if taking else current.acquired,
            transitions=current.transitions + (1 if taking and current.holder else 0))

    async def _release(self) -> None:
        """Give the Lease up on a clean stop, so a standby need not wait it out."""
        if not self.is_leader():
            return
        self.renewed_at = None
        try:
            current = await self.store.read_lease(self.namespace, self.name)
            if current is not None and current.holder == self.me:
                await self.store.write_lease(self.namespace, self.name,
                                             msgspec.structs.replace(current, holder="", duration=1.0))
        except TurnoutError as err:
            log.info("lease %s/%s not released: %s", self.namespace, self.name, err)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
