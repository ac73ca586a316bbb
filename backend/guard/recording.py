"""What the guard saw around an incident, kept for the postmortem: the series it evaluated.

Every evaluation of an armed app becomes a `Frame`: the traffic (live color, weights), and per
color what the app screen shows — error rate, p95, rps, ready pods, restarts, and the watched
color's verdicts (log error ratio, smoke results, health) with their thresholds. `Recorder`
keeps the last `PREROLL` frames of each app in memory; when the guard opens an incident, they
become the start of the incident's `Recording`, which then grows with each evaluation until
`POSTROLL` frames after the app is calm again, and is stored beside the incident report in the
cluster (`IncidentStore`: a ConfigMap on Kubernetes, memory on the demo).

The bound: at most `MAX_FRAMES` frames. A recording that would grow past it is downsampled —
every other frame dropped, its interval doubled — so it always spans the whole incident;
`marks` (detected, action, restored) are kept exactly. Verdict details are cut to `TEXT_CAP`
characters and their sources left to the report, so a frame is at most about 1.7 kB of JSON
and a recording under 700 kB, within a ConfigMap's 1 MiB (a unit test holds it to that).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import msgspec

from turnout.backend.errors import InvalidInput, NotFound
from turnout.backend.guard.incident import Incident
from turnout.backend.models import COLORS, App, Color, ColorMetrics, RouterKind, Verdict

PREROLL = 60
"""Frames kept before the incident opens (two minutes at the guard's default interval)."""
POSTROLL = 30
"""Frames recorded after the app is calm (every verdict passing) once the action was taken."""
MAX_FRAMES = 400
"""The most frames a recording holds; beyond it, it is downsampled (see the module doc)."""
TEXT_CAP = 100
"""Characters kept of a verdict's detail (its source is in the incident report, not each frame)."""


class ColorSample(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One color at one evaluation."""

    color: Color
    version: str = ""
    desired: int = 0
    ready: int = 0
    restarts_5m: int = 0
    error_rate: float | None = None
    p95_ms: float | None = None
    rps: float | None = None


class Frame(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One evaluation: when, the traffic, both colors, the verdicts and the guard's decision."""

    at: datetime
    live: Color
    blue: int
    """Blue's weight in percent (green has the rest)."""
    router: RouterKind = "service"
    colors: tuple[ColorSample, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    guard: str = ""
    """The guard's state on the app (armed, tripped)."""
    decision: str = ""

    def sample(self, color: Color) -> ColorSample:
        """The sample of `color` (an empty one when it was not recorded)."""
        return next((s for s in self.colors if s.color == color), ColorSample(color=color))


class Mark(msgspec.Struct, frozen=True, kw_only=True):
    """A moment the postmortem looks for: first bad, detected, the action, restored."""

    at: datetime
    what: str


class Recording(msgspec.Struct, frozen=True, kw_only=True):
    """The frames of one incident, oldest first, and its marks."""

    frames: tuple[Frame, ...] = ()
    marks: tuple[Mark, ...] = ()
    downsampled: int = 0
    """How many times the frames were halved to stay within `MAX_FRAMES`."""
    complete: bool = False
    """Whether recording ended (the app calm for `POSTROLL` frames, or the guard moved on)."""


class IncidentRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An incident report with its recording, as kept in the cluster."""

    incident: Incident
    recording: Recording = Recording()
    revision: str = ""
    """Storage revision the record was read at (the store fills it in)."""

    @property
    def id(self) -> str:
        """The incident's id."""
        return self.incident.id


@runtime_checkable
class IncidentStore(Protocol):
    """Keeps incident records beside their app, for every operator to list and replay."""

    async def save_incident(self, app: App, record: IncidentRecord) -> IncidentRecord:
        """Create the record (empty `revision`) or replace it conditionally on its revision
        (`Conflict` if it moved); returns it with the new revision."""
        ...

    async def incident_records(self, namespace: str | None) -> tuple[IncidentRecord, ...]:
        """Every incident record (of a namespace), oldest first."""
        ...


async def stored_records(store: object, context: str, namespace: str | None = None,
                         name: str | None = None) -> tuple[IncidentRecord, ...]:
    """The incident records `store` keeps, oldest first (one app's with `name`);
    `InvalidInput` when the context's cluster keeps none."""
    if not isinstance(store, IncidentStore):
        raise InvalidInput(f"context {context} keeps no incident records")
    found = await store.incident_records(namespace)
    return tuple(r for r in found if name in (None, r.incident.app))


def pick_record(found: Sequence[IncidentRecord], incident_id: str, context: str) -> IncidentRecord:
    """One record by its id (or the start of one): `InvalidInput` when the start is
    ambiguous, `NotFound` naming the newest when nothing matches."""
    exact = [r for r in found if r.id == incident_id]
    matches = exact or [r for r in found if r.id.startswith(incident_id)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidInput(f"incident {incident_id!r} is ambiguous: "
                           + ", ".join(r.id for r in matches[-5:]))
    newest = ", ".join(r.id for r in found[-5:]) or "none recorded"
    raise NotFound(f"no incident {incident_id!r} in context {context} (newest: {newest})")


def frame_of(app: App, verdicts: tuple[Verdict, ...], decision: str, at: datetime,
             metrics: tuple[ColorMetrics, ...] = ()) -> Frame:
    """A frame of one evaluation of `app`."""
    samples = []
    for color in COLORS:
        slot, measured = app.slot(color), next((m for m in metrics if m.color == color), None)
        samples.append(ColorSample(
            color=color, version=slot.version, desired=slot.desired, ready=slot.ready,
            restarts_5m=sum(p.restarts_5m for p in slot.pods),
            error_rate=measured.error_rate if measured else None,
            p95_ms=measured.p95_ms if measured else None, rps=measured.rps if measured else None))
    return Frame(at=at, live=app.traffic.live, blue=app.traffic.weights.blue,
                 router=app.traffic.router, colors=tuple(samples),
                 verdicts=tuple(_cut(v) for v in verdicts), guard=app.guard, decision=decision)


def _cut(verdict: Verdict) -> Verdict:
    return msgspec.structs.replace(verdict, detail=verdict.detail[:TEXT_CAP], source="")


def bounded(frames: tuple[Frame, ...], downsampled: int) -> tuple[tuple[Frame, ...], int]:
    """Frames within `MAX_FRAMES`: halved (every other one kept, the newest always) as often
    as needed."""
    while len(frames) > MAX_FRAMES:
        frames = frames[::-2][::-1]
        downsampled += 1
    return frames, downsampled


def with_frame(recording: Recording, frame: Frame) -> Recording:
    """The recording with one more frame, within the bound."""
    frames, halved = bounded((*recording.frames, frame), recording.downsampled)
    return msgspec.structs.replace(recording, frames=frames, downsampled=halved)


def marks_of(incident: Incident) -> tuple[Mark, ...]:
    """The incident's moments, in time order."""
    found = [Mark(at=incident.first_bad_at, what="first bad measurement: " + "; ".join(
                 f"{v.signal} {v.detail}" for v in incident.first_bad)),
             Mark(at=incident.detected_at, what="detected: " + "; ".join(
                 f"{v.signal} {v.detail}" for v in incident.triggers))]
    if incident.action_at is not None:
        found.append(Mark(at=incident.action_at, what=f"action: {incident.action}"))
    if incident.restored_at is not None:
        found.append(Mark(at=incident.restored_at, what="traffic restored"))
    return tuple(sorted(found, key=lambda m: m.at))


class Open(msgspec.Struct, kw_only=True):
    """An incident being recorded, and how many calm frames it has seen since."""

    record: IncidentRecord
    calm: int = 0


class Recorder:
    """The guard's memory of recent frames per app, and the incidents it is recording."""

    def __init__(self) -> None:
        self.recent: dict[tuple[str, str], deque[Frame]] = {}
        self.open: dict[tuple[str, str], Open] = {}

    def observe(self, app: App, frame: Frame) -> IncidentRecord | None:
        """Remember a frame; the open incident's record to store again, if one grows."""
        key = (app.namespace, app.name)
        self.recent.setdefault(key, deque(maxlen=PREROLL)).append(frame)
        recording = self.open.get(key)
        if recording is None:
            return None
        calm = bool(frame.verdicts) and all(v.outcome == "pass" for v in frame.verdicts)
        recording.calm = recording.calm + 1 if calm else 0
        done = recording.calm >= POSTROLL
        record = recording.record
        grown = msgspec.structs.replace(with_frame(record.recording, frame), complete=done)
        recording.record = msgspec.structs.replace(record, recording=grown)
        if done:
            del self.open[key]
        return recording.record

    def opened(self, app: App, incident: Incident) -> IncidentRecord:
        """Start recording an incident with the frames seen before it (a new incident of the
        same app closes the previous recording)."""
        key = (app.namespace, app.name)
        frames, halved = bounded(tuple(self.recent.get(key, ())), 0)
        record = IncidentRecord(incident=incident, recording=Recording(
            frames=frames, marks=marks_of(incident), downsampled=halved))
        self.open[key] = Open(record=record)
        return record

    def stored(self, record: IncidentRecord) -> None:
        """The store's answer (its new revision) for the record being recorded."""
        key = (record.incident.namespace, record.incident.app)
        recording = self.open.get(key)
        if recording is not None and recording.record.id == record.id:
            recording.record = msgspec.structs.replace(recording.record, revision=record.revision)

    def recording(self, app: App) -> bool:
        """Whether an incident of the app is being recorded."""
        return (app.namespace, app.name) in self.open
