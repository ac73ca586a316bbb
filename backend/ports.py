"""Ports: what the release service needs from the outside world.

Each port has real adapters (Kubernetes, Prometheus, Redis/LaunchDarkly,
PagerDuty/Slack) and an embedded demo adapter. The service depends on these
protocols only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from turnout.backend.models import (
    App,
    AuditEntry,
    ClusterEvent,
    Color,
    ColorMetrics,
    Pod,
    PodDetail,
    Slot,
    Traffic,
)

if TYPE_CHECKING:  # annotations only: the checklist's modules are loaded where it is built
    from turnout.backend.checklist import Manifests
    from turnout.backend.scaling import ScalePlan


class ClusterPort(Protocol):
    """Read and change blue/green apps in one cluster context."""

    @property
    def context(self) -> str:
        """The context (cluster and user) this port talks to."""
        ...

    async def list_apps(self, namespace: str | None) -> tuple[App, ...]:
        """Every app in `namespace`, or in every namespace when None."""
        ...

    async def get_app(self, name: str, namespace: str | None) -> App:
        """One app; `NotFound` if absent, `InvalidInput` if the name is ambiguous."""
        ...

    def changes(self) -> AsyncIterator[tuple[str, str]]:
        """(namespace, app) each time something about an app changes."""
        ...

    async def write_traffic(self, app: App, target: Traffic, *, dry_run: bool) -> Traffic:
        """Make `target` the app's traffic, conditional on `app.traffic.revision`."""
        ...

    async def scale(self, app: App, color: Color, replicas: int, *, dry_run: bool) -> Slot:
        """Set the replicas of `color`, conditional on the slot's revision."""
        ...

    async def set_image(self, app: App, color: Color, image: str, *, dry_run: bool) -> Slot:
        """Deploy `image` into `color`, conditional on the slot's revision."""
        ...

    async def close(self) -> None:
        """Release connections and watches."""
        ...


class MetricsPort(Protocol):
    """Golden signals per color."""

    async def golden_signals(self, app: App) -> tuple[ColorMetrics, ...]:
        """Error rate, p95 latency and request rate of each color, now."""
        ...

    async def series(
        self, app: App, color: Color, signal: str, minutes: int
    ) -> tuple[tuple[float, float], ...]:
        """(unix time, value) samples of `signal` for `color` over the last `minutes`."""
        ...


class NotifierPort(Protocol):
    """Where incidents and audit-worthy outcomes are announced."""

    async def notify(self, *, title: str, body: str, severity: str) -> None:
        """Send one notification; failures raise `Unavailable`."""
        ...


@runtime_checkable
class AuditEvents(Protocol):
    """A cluster that keeps the audit trail beside the app, where every operator sees it."""

    async def record_audit(self, app: App, entry: AuditEntry) -> None:
        """Record one audited mutation (who, why, before/after, operation id); never raises."""
        ...


@runtime_checkable
class EventSource(Protocol):
    """A cluster that can tell what its controllers said about an app's objects."""

    async def events(self, app: App, limit: int = 20) -> tuple[ClusterEvent, ...]:
        """The latest `limit` events about `app`, oldest first, their text made inert."""
        ...


@runtime_checkable
class PodInspector(Protocol):
    """A cluster that can describe one pod of an app (metadata, containers, events, logs)."""

    async def pod_detail(self, app: App, pod: Pod, log_lines: int = 20) -> PodDetail:
        """`pod` (one of `app`'s, as read) in depth, with its last `log_lines` log lines."""
        ...


@runtime_checkable
class WriteAccess(Protocol):
    """A cluster that can tell, before any confirmation, why this user cannot drive an app."""

    async def write_blocker(self, app: App) -> str:
        """Why a traffic change on `app` would be refused now (a lock, RBAC), or empty."""
        ...


@runtime_checkable
class ManifestSource(Protocol):
    """A cluster that can hand over an app's objects whole, for the app checklist."""

    async def manifests(self, app: App) -> Manifests:
        """What `checklist.audit` reads about `app` (kinds it may not read marked unreadable)."""
        ...


@runtime_checkable
class Autoscaled(Protocol):
    """A cluster where an HPA may govern a color: scales are planned through its bounds."""

    async def scale_plan(self, app: App, color: Color, replicas: int, *,
                         restore: bool = False) -> ScalePlan:
        """What scaling `color` to `replicas` will do, the HPA governing it considered
        (`restore`: as `scale_back` does it)."""
        ...

    async def scale_back(self, app: App, color: Color, replicas: int, *, dry_run: bool) -> Slot:
        """Put `color` back to `replicas` with its HPA's own bounds (a failed deploy's restore)."""
        ...


@runtime_checkable
class Coordinated(Protocol):
    """A cluster that keeps a release lock per app and journals its multi-object changes."""

    async def lock(self, name: str, namespace: str | None, *, force: bool = False) -> str:
        """Take or renew the app's lock; the previous holder taken over, or empty."""
        ...

    async def unlock(self, name: str, namespace: str | None, *, force: bool = False) -> str:
        """Release the app's lock (someone else's only with `force`); who held it."""
        ...

    async def resume(self, name: str, namespace: str | None, *,
                     back: bool = False) -> Traffic | None:
        """Finish (or with `back` undo) the app's journaled operation; None when none."""
        ...


@runtime_checkable
class FireDrills(Protocol):
    """An environment that can make a color fail on purpose (the demo), to rehearse a rollback."""

    async def fire_drill(self, app: App) -> Color:
        """Make the color taking new traffic fail; the color made to fail."""
        ...
