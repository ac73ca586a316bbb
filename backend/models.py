"""Frozen records of the domain: what an operator sees about an app.

msgspec Structs: immutable, cheap to build from a watch cache, and encoded to
the documented JSON schema of `turnout status -o json` without a second model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

Color = Literal["blue", "green"]
COLORS: tuple[Color, Color] = ("blue", "green")
RouterKind = Literal["service", "nginx", "gateway"]
Outcome = Literal["pass", "fail", "inconclusive", "error"]


def other(color: Color) -> Color:
    """The color that is not `color`."""
    return "green" if color == "blue" else "blue"


class Pod(msgspec.Struct, frozen=True, kw_only=True):
    """One pod of a color, reduced to what health decisions need."""

    name: str
    color: Color
    phase: str
    ready: bool
    restarts: int = 0
    restarts_5m: int = 0
    waiting_reason: str = ""
    started_at: datetime | None = None
    node: str = ""


class Slot(msgspec.Struct, frozen=True, kw_only=True):
    """One color's Deployment: what runs there and how healthy it is."""

    color: Color
    version: str
    image: str
    desired: int
    ready: int
    available: int
    pods: tuple[Pod, ...] = ()
    revision: str = ""
    pods_loading: bool = False
    """The pods' first list is still arriving: `pods` holds those listed so far, so what
    the pods tell (restarts, crash loops) is unknown yet."""


class Weights(msgspec.Struct, frozen=True, kw_only=True):
    """Per-color share of traffic in percent; always sums to 100."""

    blue: int
    green: int

    def __post_init__(self) -> None:
        if min(self.blue, self.green) < 0 or self.blue + self.green != 100:
            raise ValueError(f"weights must be >= 0 and sum to 100, got {self.blue}/{self.green}")

    def of(self, color: Color) -> int:
        """The weight of `color`."""
        return self.blue if color == "blue" else self.green

    @classmethod
    def all_to(cls, color: Color) -> Weights:
        """Every request to `color`."""
        return cls.split(color, 0)

    @classmethod
    def split(cls, live: Color, canary_percent: int) -> Weights:
        """`canary_percent` to the color that is not `live`, the rest to `live`."""
        share = {live: 100 - canary_percent, other(live): canary_percent}
        return cls(blue=share["blue"], green=share["green"])


class Traffic(msgspec.Struct, frozen=True, kw_only=True):
    """How requests reach the app: the live color and the canary split."""

    live: Color
    weights: Weights
    router: RouterKind = "service"
    plan: tuple[int, ...] = ()
    revision: str = ""

    @property
    def canary(self) -> Color:
        """The color that is not live (the one a canary shifts traffic to)."""
        return other(self.live)

    @property
    def canary_weight(self) -> int:
        """Percent of traffic on the non-live color."""
        return self.weights.of(self.canary)

    @property
    def step(self) -> int | None:
        """Index in `plan` of the current canary weight, or None when not on a step."""
        weight = self.canary_weight
        return self.plan.index(weight) if weight in self.plan else None


class ClusterEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A Kubernetes Event about one of an app's objects. Its text is untrusted."""

    at: datetime | None
    type: str
    """Normal or Warning."""
    reason: str
    object: str
    """kind/name, e.g. Pod/shop-blue-7d9f-x2x."""
    message: str
    count: int = 1


class ContainerDetail(msgspec.Struct, frozen=True, kw_only=True):
    """One container of a pod, as `kubectl describe pod` shows it."""

    name: str
    image: str
    ready: bool
    restarts: int
    state: str
    """running, waiting or terminated."""
    reason: str = ""
    """Why it waits or ended (CrashLoopBackOff, ImagePullBackOff, Completed...)."""
    last_reason: str = ""
    """Why its previous run ended (OOMKilled, Error)."""
    last_exit_code: int | None = None


class PodDetail(msgspec.Struct, frozen=True, kw_only=True):
    """One pod of an app in depth: its metadata, containers, events and log tail.

    All text comes from the cluster and the pod's own output and is untrusted: front ends
    show it through `inert` (the Kubernetes adapter also cleans it at the boundary).
    """

    app: str
    namespace: str
    pod: Pod
    ip: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    containers: tuple[ContainerDetail, ...] = ()
    conditions: tuple[tuple[str, str], ...] = ()
    """(type, status), e.g. ("Ready", "False")."""
    events: tuple[ClusterEvent, ...] = ()
    logs: tuple[str, ...] = ()
    log_container: str = ""
    """The container whose log the tail is (the default container of a pod with sidecars)."""
    logs_note: str = ""
    """Why there are no log lines to show (pending, not allowed, unreachable), or empty."""


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one signal: what was measured, against what, from where."""

    signal: str
    color: Color
    outcome: Outcome
    value: float | None
    threshold: float | None
    source: str
    at: datetime
    detail: str = ""


class GuardReport(msgspec.Struct, frozen=True, kw_only=True):
    """The rollback guard's latest evaluation of an app, kept in the cluster for every operator."""

    at: datetime
    watched: Color
    decision: str
    verdicts: tuple[Verdict, ...] = ()


class ColorMetrics(msgspec.Struct, frozen=True, kw_only=True):
    """Golden signals of one color over the last window."""

    color: Color
    error_rate: float | None
    p95_ms: float | None
    rps: float | None


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    """An action in flight: a journaled traffic change, or a deploy (`kind` "deploy")."""

    id: str
    kind: str
    by: str
    """Who started it; for a deploy, the process driving it (user@host:pid)."""
    started_at: datetime
    step: int
    steps: tuple[str, ...]
    stage: str = ""
    """A deploy's current stage, e.g. `analyse 10%`."""
    stage_since: datetime | None = None
    status: str = ""
    """A deploy's state: running, paused, restoring."""


class FlagSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One feature flag as the release console lists it."""

    key: str
    on: bool
    rollout_percent: int | None
    stage: int | None
    version: int
    description: str = ""
    app: str = ""
    stale: bool = False


class Drift(msgspec.Struct, frozen=True, kw_only=True):
    """The routing objects disagree with each other or with an unfinished operation.

    The weights shown beside it are what the objects send today; these say why they
    cannot be trusted as a release state, and what each object says on its own.
    """

    reasons: tuple[str, ...]
    objects: tuple[str, ...] = ()
    """What each routing object says, e.g. `service/shop selects green`."""


class App(msgspec.Struct, frozen=True, kw_only=True):
    """A blue/green app: both slots, its traffic and what is going on with it."""

    name: str
    namespace: str
    context: str
    blue: Slot
    green: Slot
    traffic: Traffic
    metrics: tuple[ColorMetrics, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    operation: Operation | None = None
    lock_holder: str = ""
    guard: str = "disarmed"
    """Rollback guard state, shared through the cluster: armed, tripped or disarmed."""
    guard_report: GuardReport | None = None
    """The guard's latest verdicts as it published them (whichever host runs it)."""
    endpoints: dict[str, str] = {}
    """Base URL per color for health checks and smoke tests (color -> URL)."""
    deploy: Operation | None = None
    """The deploy in flight (the release flow), apart from `operation`: its own traffic
    steps are not blocked by it."""
    drift: Drift | None = None
    """Set when the routing objects disagree (with each other or an unfinished operation)."""

    def slot(self, color: Color) -> Slot:
        """The slot of `color`."""
        return self.blue if color == "blue" else self.green

    @property
    def drifted(self) -> bool:
        """Whether the routing objects disagree, so the weights are no release state."""
        return self.drift is not None

    def metrics_of(self, color: Color) -> ColorMetrics | None:
        """The latest golden signals of `color`, if measured."""
        return next((m for m in self.metrics if m.color == color), None)

    @property
    def health(self) -> Outcome:
        """The worst verdict across signals; inconclusive (unknown) without any verdict."""
        outcomes = {v.outcome for v in self.verdicts}
        order: tuple[Outcome, ...] = ("fail", "error", "inconclusive", "pass")
        return next((worst for worst in order if worst in outcomes), "inconclusive")


class ActionResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a domain verb did: the state before and after, and whether it was a dry run."""

    action: str
    app: str
    namespace: str
    before: Traffic
    after: Traffic
    dry_run: bool = False
    changed: bool = True
    message: str = ""


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One mutation, as recorded in the audit log. Never holds a secret."""

    at: datetime
    who: str
    os_user: str
    context: str
    namespace: str
    app: str
    action: str
    before: dict[str, object]
    after: dict[str, object]
    reason: str = ""
    operation_id: str = ""
    dry_run: bool = False
