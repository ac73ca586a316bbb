"""A deploy in flight, as discovery sees it: the release flow's record beside the app.

The flow (`turnout-flow-APP`, written by the release package before and after each
stage) is read here through a lean view of only the fields `status` shows, so the
Kubernetes adapter does not depend on the release package that builds on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from turnout.backend.kube import wire
from turnout.backend.models import Operation

FLOW_KEY = "flow"


def flow_name(app: str) -> str:
    """The ConfigMap holding `app`'s deploy in flight."""
    return f"turnout-flow-{app}"


class _Stage(msgspec.Struct, frozen=True):
    kind: str = ""
    weight: int = 0

    def describe(self) -> str:
        return f"{self.kind} {self.weight}%" if self.kind in ("weight", "analyse",
                                                              "pause") else self.kind


class _Flow(msgspec.Struct, frozen=True):
    id: str
    by: str
    started_at: datetime
    stage_started: datetime
    stages: tuple[_Stage, ...] = ()
    at: int = 0
    status: str = "running"
    driver: str = ""
    outcome: str | None = None


def deploy_of(maps: Sequence[wire.ConfigMap], namespace: str, app: str) -> Operation | None:
    """The deploy of `app` in flight, or None (none, finished, or unreadable)."""
    name = flow_name(app)
    raw = next((cm.data.get(FLOW_KEY, "") for cm in maps
                if (cm.metadata.namespace, cm.metadata.name) == (namespace, name)), "")
    try:
        flow = msgspec.json.decode(raw, type=_Flow) if raw else None
    except msgspec.MsgspecError:
        return None
    if flow is None or flow.outcome is not None:
        return None
    stage = flow.stages[flow.at].describe() if flow.at < len(flow.stages) else "finishing"
    return Operation(id=flow.id, kind="deploy", by=flow.driver or flow.by,
                     started_at=flow.started_at, step=flow.at,
                     steps=tuple(s.describe() for s in flow.stages), stage=stage,
                     stage_since=flow.stage_started, status=flow.status)
