"""The embedded demo environment, behind the same ports as a real cluster."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from turnout.backend.audit import AuditLog
from turnout.backend.config import GuardSettings
from turnout.backend.demo import state
from turnout.backend.demo.cluster import DemoCluster
from turnout.backend.demo.flags import KeptFlagStore, demo_flag_store
from turnout.backend.demo.metrics import DemoMetrics
from turnout.backend.demo.pace import demo_pace
from turnout.backend.demo.release_port import MemoryPort
from turnout.backend.demo.world import DemoWorld
from turnout.backend.flags.flag_console import FlagConsole
from turnout.backend.gate import WriteGate
from turnout.backend.service import Clock, ReleaseService

if TYPE_CHECKING:
    from turnout.backend.notify import Fanout

__all__ = ["DemoCluster", "DemoMetrics", "DemoWorld", "build_demo_service", "state"]


def build_demo_service(*, seed: int = 7, gate: WriteGate | None = None, tick_seconds: float = 1.0,
                       audit_path: Path | None = None, clock: Clock | None = None,
                       guard: GuardSettings | None = None, scope: str | None = None,
                       kept: Path | None = None,
                       notifier: Callable[[], Fanout] | None = None) -> ReleaseService:
    """A release service over a seeded demo world: with `kept`, the demo kept in that file by
    an earlier run (world, release flows and history, flags; each change is written back),
    else a fresh one.

    Every demo starts at the same simulated moment, so what one run records (audit lines,
    incident reports) would read as recent in the next: unless `audit_path` is given, both
    go to a folder of this run's own, removed when the process ends.
    """
    earlier = state.load(seed, kept) if kept else None
    world = earlier.world if earlier else DemoWorld(seed=seed)
    gate = gate or WriteGate()
    if kept is None:
        cluster = DemoCluster(world, gate, tick_seconds=tick_seconds)
        store = demo_flag_store(gate)
    else:
        path = kept

        def keep() -> None:
            state.save(path, seed, world, cluster.documents, kept_flags.document)

        cluster = DemoCluster(world, gate, tick_seconds=tick_seconds, keep=keep)
        cluster.documents.update(earlier.documents if earlier else {})
        kept_flags = KeptFlagStore(gate, earlier.flags if earlier else None, keep)
        store = kept_flags
    flags = FlagConsole(store)
    if audit_path is None:
        run = Path(tempfile.mkdtemp(prefix="turnout-demo-"))
        atexit.register(shutil.rmtree, run, True)
        audit_path = run / "audit.jsonl"
    return ReleaseService(cluster, DemoMetrics(world), audit=AuditLog(audit_path),
                          identity="demo-operator", clock=clock or cluster.now,
                          read_only=gate.read_only, flags=flags,
                          incidents_folder=audit_path.parent / "incidents", guard_here=True,
                          releases=MemoryPort(cluster), pace=demo_pace(cluster), guard=guard,
                          scope=scope, notifier=notifier)
