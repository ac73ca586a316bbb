"""What the guard uses beyond `ClusterPort` and `MetricsPort`, when an adapter offers it.

Each capability is optional: a cluster adapter without pod logs simply yields no
log verdict. They are checked with `isinstance` (runtime-checkable protocols)
rather than added to `ClusterPort`, so other adapters need not implement them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import msgspec

if TYPE_CHECKING:  # imported where used: the TUI's first frame need not pay for httpx
    import httpx

from turnout.backend.models import App, Color, GuardReport
from turnout.backend.signals import PromSample

ARMED, TRIPPED, DISARMED = "armed", "tripped", "disarmed"
"""The guard's states per app, as a `GuardStateStore` records them."""


@runtime_checkable
class GuardStateStore(Protocol):
    """Keeps the guard's state where every operator's `status` and TUI read it."""

    async def set_guard_state(self, app: App, state: str) -> None:
        """Record `armed`, `tripped` or `disarmed` on the app (read back as `App.guard`)."""
        ...

    async def record_incident(self, app: App, summary: str) -> None:
        """Record an incident on the app (a Kubernetes Event)."""
        ...


@runtime_checkable
class GuardReportStore(Protocol):
    """Keeps the guard's latest verdicts beside the app, so `status` and the TUI show them."""

    async def publish_guard_report(self, app: App, report: GuardReport) -> None:
        """Replace the app's published report."""
        ...


@runtime_checkable
class HealthProbe(Protocol):
    """A health check of a color without a URL of its own (e.g. the API server's service proxy)."""

    async def health(self, app: App, color: Color) -> bool:
        """Whether the color's health endpoint answered 2xx."""
        ...


PROXY_SCHEME = "kube://"
"""An endpoint `kube://SERVICE[:PORT]` is reached through the API server's service proxy."""


@runtime_checkable
class ServiceProxy(Protocol):
    """A cluster that can reach a Service through its API server (no route to the pods needed)."""

    def service_proxy(self, app: App, endpoint: str) -> tuple[httpx.AsyncClient, str]:
        """A client authenticated to the API server, and the path prefix of the Service's proxy
        for `kube://SERVICE[:PORT]` in the app's namespace."""
        ...


@runtime_checkable
class PodLogs(Protocol):
    """Recent log lines of a color's pods."""

    async def log_lines(self, app: App, color: Color, limit: int = 100) -> list[str]:
        """Up to `limit` most recent lines across the color's pods."""
        ...


@runtime_checkable
class SampledMetrics(Protocol):
    """A metrics source that reports how much to trust its error rate (Prometheus)."""

    async def sample(self, app: App, color: Color) -> PromSample:
        """The error ratio with its request count, freshness and warnings."""
        ...


@runtime_checkable
class SampleHistory(Protocol):
    """A metrics source that keeps its samples' own times, so an incident starts at the first
    bad sample rather than at the evaluation that first saw it."""

    async def bad_run_start(self, app: App, color: Color,
                            threshold: float) -> tuple[datetime, float] | None:
        """The time and error ratio of the first sample of the newest unbroken run of samples
        above `threshold`; None when the newest sample is not above it."""
        ...


class LeaseRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A coordination.k8s.io Lease as leader election reads and writes it."""

    holder: str = ""
    duration: float = 0.0
    """leaseDurationSeconds."""
    acquired: datetime | None = None
    renewed: datetime | None = None
    transitions: int = 0
    version: str = ""
    """resourceVersion: a write with it succeeds only if nobody wrote since (empty: create)."""


@runtime_checkable
class LeaseStore(Protocol):
    """Leases for the guard replicas' leader election."""

    async def read_lease(self, namespace: str, name: str) -> LeaseRecord | None:
        """The Lease, or None when it does not exist."""
        ...

    async def write_lease(self, namespace: str, name: str, record: LeaseRecord) -> LeaseRecord:
        """Create (no version) or replace (conditional on `record.version`) the Lease; `Conflict`
        when someone else wrote it first. Returns what was stored, with its new version."""
        ...
