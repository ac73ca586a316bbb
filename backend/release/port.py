"""What the release flow needs from the cluster beyond `ClusterPort`.

The flow journal and the release history are documents kept beside the app
(ConfigMaps on Kubernetes, memory on the demo); the rollout probe reads how far
a Deployment's rollout got. The assembly (`backend/assembly.py`) picks the adapter.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from turnout.backend.models import App, Color
from turnout.backend.release.model import Flow, Release
from turnout.backend.release.totals import Totals

HISTORY_CAP = 50
"""Releases kept per app; the oldest are dropped first."""


class Rollout(msgspec.Struct, frozen=True, kw_only=True):
    """How far one color's rollout got."""

    desired: int
    updated: int
    ready: int
    available: int
    total: int
    """Pods of the color, old and new (more than `desired` while rolling)."""
    done: bool
    stalled: str = ""
    """Why the rollout can no longer progress (ProgressDeadlineExceeded...), else empty."""


class ReleasePort(Protocol):
    """The flow journal, the history and the rollout probe of one cluster context."""

    async def load_flow(self, namespace: str, app: str) -> Flow | None:
        """The flow in flight for the app, with its storage revision; None when there is none."""
        ...

    async def create_flow(self, flow: Flow) -> Flow:
        """Store a new flow; `Conflict` if one already exists."""
        ...

    async def save_flow(self, flow: Flow) -> Flow:
        """Replace the flow, conditional on `flow.revision`; `Conflict` if it moved."""
        ...

    async def clear_flow(self, flow: Flow) -> None:
        """Remove the flow record (done); a missing record is fine."""
        ...

    async def history(self, namespace: str | None, app: str | None) -> tuple[Release, ...]:
        """Recorded releases, oldest first; every app (of a namespace) when `app` is None."""
        ...

    async def record(self, release: Release) -> None:
        """Append a finished release to its app's history, dropping beyond `HISTORY_CAP`, and
        count it in the app's totals, in one write."""
        ...

    async def totals(self, namespace: str | None) -> tuple[Totals, ...]:
        """Every app's release totals (of a namespace, or all), one per recorded history."""
        ...

    async def rollout(self, app: App, color: Color) -> Rollout:
        """The rollout progress of `color`'s Deployment."""
        ...

    async def preflight(self, app: App, canary: bool) -> None:
        """Refuse up front what would fail mid-flow (RBAC, no canary router)."""
        ...

    async def acquire(self, app: App) -> bool:
        """Take or renew the release lock; True when this call took it (not held before)."""
        ...

    async def unlock(self, app: App) -> None:
        """Give the release lock back."""
        ...

    async def converge(self, app: App) -> None:
        """Finish a traffic change an earlier process left half done (its intent journal)."""
        ...

    async def note(self, app: App, reason: str, message: str) -> None:
        """Record a milestone where operators look (a Kubernetes Event); never fails."""
        ...
