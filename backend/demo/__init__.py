"""The embedded demo environment, behind the same ports as a real cluster."""

from __future__ import annotations

from pathlib import Path

from turnout.backend.audit import AuditLog
from turnout.backend.demo.cluster import DemoCluster
from turnout.backend.demo.flags import demo_flag_store
from turnout.backend.demo.metrics import DemoMetrics
from turnout.backend.demo.world import DemoWorld
from turnout.backend.flags.console import FlagConsole
from turnout.backend.gate import WriteGate
from turnout.backend.service import Clock, ReleaseService

__all__ = ["DemoCluster", "DemoMetrics", "DemoWorld", "build_demo_service"]


def build_demo_service(*, seed: int = 7, gate: WriteGate | None = None, tick_seconds: float = 1.0,
                       audit_path: Path | None = None, clock: Clock | None = None) -> ReleaseService:
    """A release service over a freshly seeded demo world."""
    world = DemoWorld(seed=seed)
    gate = gate or WriteGate()
    cluster = DemoCluster(world, gate, tick_seconds=tick_seconds)
    flags = FlagConsole(demo_flag_store(gate), by="demo-operator")
    return ReleaseService(cluster, DemoMetrics(world), audit=AuditLog(audit_path),
                          identity="demo-operator", clock=clock or (lambda: world.clock),
                          read_only=gate.read_only, flags=flags)
