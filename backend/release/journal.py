"""The flow's own journal: conditional saves, heartbeats, and requests from other processes.

One process drives a flow (`driver`, user@host:pid). Other processes only ever
set two fields on its record: `abort_requested` (turnout abort) and `approved`
(turnout promote). The driver reads the record between measurements, merges
those two fields into its own state, and saves with the revision it read, so
neither side overwrites the other.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import msgspec

from turnout.backend.audit import os_user
from turnout.backend.errors import Conflict
from turnout.backend.release.model import Flow
from turnout.backend.release.port import ReleasePort

HEARTBEAT = timedelta(seconds=5)
"""How often a driver that is waiting re-saves its record to show it is alive."""
STALE = timedelta(seconds=30)
"""A record not saved for this long belongs to a driver presumed dead."""
RENEW = timedelta(minutes=5)
"""How often a driver holding the release lock renews it (the lock lasts 15 minutes)."""


class Superseded(Conflict):
    """Another process took the flow over (or removed its record): this one must stop."""

    title = "Deploy taken over"


class AbortRequested(Exception):
    """An operator asked to abort the flow; carries the flow as last read."""

    def __init__(self, flow: Flow) -> None:
        super().__init__(f"abort requested by {flow.abort_by or 'an operator'}")
        self.flow = flow


def driver_id() -> str:
    """This process as a flow driver: user@host:pid."""
    return f"{os_user()}@{socket.gethostname()}:{os.getpid()}"


def driver_alive(flow: Flow, now: datetime) -> bool:
    """Whether the flow's driver still runs: its pid on this host, else a fresh heartbeat."""
    owner, _, pid = flow.driver.rpartition(":")
    if owner.rpartition("@")[2] == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # someone else's process with that pid: fall back to the heartbeat
    return now - flow.heartbeat < STALE


def merged(local: Flow, remote: Flow) -> Flow:
    """`local` with the requests other processes recorded on `remote`, at `remote`'s revision."""
    return msgspec.structs.replace(
        local, abort_requested=local.abort_requested or remote.abort_requested,
        abort_by=local.abort_by or remote.abort_by, approved=max(local.approved, remote.approved),
        revision=remote.revision)


class FlowJournal:
    """Saves one driver's flow and brings in what other processes asked for."""

    def __init__(self, port: ReleasePort, clock: Callable[[], datetime], me: str,
                 renew: Callable[[Flow], Awaitable[None]] | None = None) -> None:
        self.port = port
        self.clock = clock
        self.me = me
        self.renew = renew
        """Renews the release lock of a flow that holds it (a long manual pause outlasts it)."""
        self.renewed = clock()
        self.latest: Flow | None = None
        """The flow as last saved or read: what a failure restores from."""

    async def save(self, flow: Flow) -> Flow:
        """Save with this driver's heartbeat; on a conflict merge the other side's requests."""
        flow = msgspec.structs.replace(flow, driver=self.me, heartbeat=self.clock())
        try:
            self.latest = await self.port.save_flow(flow)
        except Conflict:
            remote = await self._remote(flow)
            self.latest = await self.port.save_flow(merged(flow, remote))
        return self.latest

    async def pulse(self, flow: Flow, *, abortable: bool = True) -> Flow:
        """Between measurements: read requests, raise `AbortRequested`, heartbeat when due."""
        flow = merged(flow, await self._remote(flow))
        self.latest = flow
        if abortable and flow.abort_requested:
            raise AbortRequested(flow)
        if self.clock() - flow.heartbeat >= HEARTBEAT:
            flow = await self.save(flow)
        if flow.locked and self.renew is not None and self.clock() - self.renewed >= RENEW:
            await self.renew(flow)
            self.renewed = self.clock()
        return flow

    async def _remote(self, flow: Flow) -> Flow:
        remote = await self.port.load_flow(flow.namespace, flow.app)
        if remote is None:
            raise Superseded(f"the deploy record of {flow.namespace}/{flow.app} was removed by "
                             "someone else; this process stopped without touching traffic")
        if remote.driver not in ("", self.me):
            raise Superseded(f"the deploy of {flow.namespace}/{flow.app} was taken over by "
                             f"{remote.driver}; this process stopped")
        return remote
