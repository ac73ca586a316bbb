"""The views of a cluster beside its apps: pods in depth, events, who may act, incidents.
`ReleaseService` owns one `ClusterViews` and answers these reads through it; read-only, so
nothing here is audited."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from turnout.backend.errors import InvalidInput, NotFound, TurnoutError
from turnout.backend.models import COLORS, App, ClusterEvent, Pod, PodDetail
from turnout.backend.ports import ClusterPort, EventSource, PodInspector, WriteAccess

if TYPE_CHECKING:
    from turnout.backend.guard.incident import Incident

log = logging.getLogger(__name__)


class ClusterViews:
    """Reads through `cluster`, the same port the release verbs write through."""

    def __init__(self, cluster: ClusterPort, *, read_only: bool,
                 incidents_folder: Path | None) -> None:
        self.cluster = cluster
        self.read_only = read_only
        self.incidents_folder = incidents_folder

    async def pods(self, name: str, namespace: str | None = None) -> tuple[Pod, ...]:
        """The app's pods, blue then green (no metrics read: a listing needs none)."""
        app = await self.cluster.get_app(name, namespace)
        return tuple(p for c in COLORS for p in app.slot(c).pods)

    async def events(self, name: str, namespace: str | None = None,
                     limit: int = 20) -> tuple[ClusterEvent, ...]:
        """What the cluster said lately about the app's objects (none if it cannot tell)."""
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"limit {limit}: expected 1..1000")
        return await self.events_of(await self.cluster.get_app(name, namespace), limit)

    async def events_of(self, app: App, limit: int = 20) -> tuple[ClusterEvent, ...]:
        """`events` for an app record already in hand (a screen refreshing its tail)."""
        if not isinstance(self.cluster, EventSource):
            return ()
        return await self.cluster.events(app, limit)

    async def pod(self, name: str, pod: str, namespace: str | None = None,
                  log_lines: int = 20) -> PodDetail:
        """One pod of the app in depth (`kubectl describe` plus its log tail); a pod that
        is not the app's is NotFound, so no other workload's pod is read through here."""
        if not 0 <= log_lines <= 1000:
            raise InvalidInput(f"log lines {log_lines}: expected 0..1000")
        app = await self.cluster.get_app(name, namespace)
        found = next((p for c in COLORS for p in app.slot(c).pods if p.name == pod), None)
        if found is None:
            names = [p.name for c in COLORS for p in app.slot(c).pods]
            some = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            raise NotFound(f"no pod {pod!r} in {app.namespace}/{app.name}; its pods: {some or 'none'}")
        if not isinstance(self.cluster, PodInspector):
            return PodDetail(app=app.name, namespace=app.namespace, pod=found)
        return await self.cluster.pod_detail(app, found, log_lines)

    def latest_incident(self, name: str, namespace: str) -> Incident | None:
        """The app's newest incident report in this context (for the recovery clock)."""
        # Imported here: the guard package brings httpx, and httpx brings rich, which the
        # headless commands (status, weight) must not load.
        from turnout.backend.guard import incident as incidents

        return incidents.latest(name, namespace, self.incidents_folder,
                                context=self.cluster.context)

    async def write_blocker(self, app: App) -> str:
        """Why this operator cannot change `app`'s traffic now (read-only, a lock, RBAC), or
        empty; for greying actions out before anyone confirms anything."""
        if self.read_only:
            return "read-only mode"
        if not isinstance(self.cluster, WriteAccess):
            return ""
        try:
            return await self.cluster.write_blocker(app)
        except TurnoutError as err:
            log.info("cannot tell whether %s/%s is writable: %s", app.namespace, app.name, err)
            return ""  # unknown: the write itself will still be checked
