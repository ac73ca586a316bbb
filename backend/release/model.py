"""Records of the release flow: the plan, the flow in flight, the history entry.

All are frozen msgspec Structs: the flow is stored as JSON in the cluster
(a ConfigMap, or memory on the demo) and replaced, never mutated, at each step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from turnout.backend.errors import InvalidInput
from turnout.backend.models import Color, Verdict
from turnout.backend.plans import parse_plan

Strategy = Literal["instant", "canary"]
Outcome = Literal["promoted", "rolled-back", "aborted", "failed"]
FlowStatus = Literal["running", "paused", "restoring"]
StageKind = Literal["deploy", "ready", "preview", "weight", "analyse", "pause", "promote",
                    "monitor", "scale-down"]

EXIT_CODES: dict[Outcome, int] = {"promoted": 0, "rolled-back": 20, "aborted": 21, "failed": 22}
"""Exit code of `turnout deploy` (and `resume` of a deploy) by outcome (README: "Deploying a release")."""

DEFAULT_STEPS = (10, 50, 100)


class Stage(msgspec.Struct, frozen=True, kw_only=True):
    """One step of the flow; `weight` is the canary percent of weight/analyse/pause stages."""

    kind: StageKind
    weight: int = 0

    def describe(self) -> str:
        """The stage in the operator's words."""
        words = {"deploy": "deploy into the idle color", "ready": "wait until ready",
                 "preview": "check the preview color", "weight": f"shift {self.weight} %",
                 "analyse": f"analyse at {self.weight} %", "pause": f"pause at {self.weight} %",
                 "promote": "promote (100 %)", "monitor": "monitor",
                 "scale-down": "scale the old color down"}
        return words[self.kind]


class DeployRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What `turnout deploy` was asked to do (durations in seconds)."""

    app: str
    image: str
    namespace: str | None = None
    strategy: Strategy = "canary"
    steps: tuple[int, ...] = ()
    """Canary weights ending at 100; empty: the app's plan annotation, else 10,50,100."""
    pause: float = 0.0
    """Seconds to wait after each canary step's analysis."""
    manual: bool = False
    """Wait at each canary step until `turnout promote APP`."""
    analysis: float = 60.0
    """Seconds of passing verdicts needed at each canary step."""
    monitor: float | None = None
    """Seconds of passing verdicts after full promotion (default: `analysis`)."""
    deadline: float = 300.0
    """Progress deadline: seconds for the new color to become ready."""
    interval: float = 2.0
    """Seconds between two measurements."""
    scale_down_to: int = 1
    """Replicas the old color keeps after promotion (warm, for a fast rollback)."""
    commit_time: datetime | None = None
    """When the change was committed, for lead time."""
    reason: str = ""


def plan_stages(strategy: Strategy, steps: tuple[int, ...], *, pause: float,
                manual: bool) -> tuple[Stage, ...]:
    """The stages of a flow, from deploy to scale-down."""
    if strategy == "canary":
        checked = parse_plan(",".join(map(str, steps)))
    elif strategy == "instant":
        checked = ()
    else:
        raise InvalidInput(f"strategy {strategy!r}: expected instant or canary")
    stages = [Stage(kind="deploy"), Stage(kind="ready"), Stage(kind="preview")]
    for weight in checked[:-1]:
        stages += [Stage(kind="weight", weight=weight), Stage(kind="analyse", weight=weight)]
        if manual or pause > 0:
            stages.append(Stage(kind="pause", weight=weight))
    stages += [Stage(kind="promote", weight=100), Stage(kind="monitor", weight=100),
               Stage(kind="scale-down")]
    return tuple(stages)


class Flow(msgspec.Struct, frozen=True, kw_only=True):
    """A deploy in flight, as journaled in the cluster after every stage."""

    id: str
    app: str
    namespace: str
    context: str
    image: str
    version: str
    strategy: Strategy
    steps: tuple[int, ...]
    pause: float
    manual: bool
    analysis: float
    monitor: float
    deadline: float
    interval: float
    scale_down_to: int
    old: Color
    """The color live when the deploy started (restored on failure)."""
    new: Color
    """The idle color the new image goes into."""
    old_image: str
    old_version: str
    old_replicas: int
    new_prev_image: str
    new_prev_replicas: int
    by: str
    started_at: datetime
    stages: tuple[Stage, ...]
    at: int = 0
    """Index of the stage running now; len(stages) when every stage is done."""
    stage_started: datetime
    status: FlowStatus = "running"
    outcome: Outcome | None = None
    """Decided once the flow is restoring (rolled-back, aborted or failed)."""
    cause: str = ""
    """Why the flow is restoring, in one line with the measured values."""
    scale_down: str = ""
    """How the old color's scale-down will go where an HPA governs it (through its bounds,
    held at its minimum), as planned; empty when no HPA is in the way."""
    verdicts: tuple[Verdict, ...] = ()
    """The latest verdicts on the new color."""
    exposed_at: datetime | None = None
    """When the new color first received traffic."""
    detected_at: datetime | None = None
    """When a failing verdict was first seen."""
    restored_at: datetime | None = None
    """When traffic was back on the old color."""
    abort_requested: bool = False
    abort_by: str = ""
    approved: int = -1
    """Index of the last stage an operator released with `turnout promote`."""
    locked: bool = False
    """Whether the flow took the release lock (and so gives it back at the end)."""
    reason: str = ""
    commit_time: datetime | None = None
    driver: str = ""
    """The process driving the flow: user@host:pid."""
    heartbeat: datetime
    revision: str = ""
    """Storage revision the record was read at (the store fills it in)."""

    @property
    def stage(self) -> Stage | None:
        """The stage running now, None when all are done."""
        return self.stages[self.at] if self.at < len(self.stages) else None

    @property
    def upcoming(self) -> tuple[Stage, ...]:
        """The stages after the current one."""
        return self.stages[self.at + 1:]


class Release(msgspec.Struct, frozen=True, kw_only=True):
    """One finished deploy, as kept in the app's release history."""

    id: str
    app: str
    namespace: str
    context: str
    version: str
    image: str
    previous_version: str
    previous_image: str
    strategy: Strategy
    steps: tuple[int, ...]
    by: str
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    reason: str = ""
    """Why it did not promote, with the measured values; empty when promoted."""
    stage: str = ""
    """Where the flow ended (the stage in the operator's words)."""
    verdicts: tuple[Verdict, ...] = ()
    from_color: Color
    to_color: Color
    commit_time: datetime | None = None
    exposed_at: datetime | None = None
    detected_at: datetime | None = None
    restored_at: datetime | None = None
    """When traffic was back on the old color (rolled back or aborted)."""


class Steered(msgspec.Struct, frozen=True, kw_only=True):
    """What an operator's abort, promote or resume did to the app's deploy in flight, or the
    deploy a rollback to a version from the history ran."""

    verb: Literal["abort", "promote", "resume", "rollback"]
    app: str
    namespace: str
    flow: Flow
    """The flow as it was steered."""
    release: Release | None = None
    """How the deploy ended (abort, resume); None for promote, a dry run, or one that ended
    meanwhile."""
    message: str
    """What happened, in one line for the operator."""
    note: str = ""
    """What the operator should do next, if anything (no process drives the deploy...)."""
    exit_code: int = 0
    """The CLI's exit code for this outcome (README: "Steering a deploy in flight")."""
    dry_run: bool = False
