"""An incident's recording played back: pure functions from an `IncidentRecord` to what the
operator saw at any recorded moment, and to a printed timeline.

`app_at` rebuilds the `App` the app screen showed at a frame (traffic, both colors' ready pods,
golden signals, the guard's verdicts), `series_until` the charts' samples up to it, so the TUI
replays on the app screen's own widgets; `timeline` merges frames, threshold crossings and the
guard's marks on one clock for `turnout incident replay`. Every text from the record is outside
text: front ends print it through `inert`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import msgspec

from turnout.backend.guard.recording import Frame, IncidentRecord
from turnout.backend.models import COLORS, App, Color, ColorMetrics, GuardReport, Slot, Traffic, Weights

SPEEDS = (1, 2, 5, 10, 30, 60)
"""Replay speeds, times real time."""


class Crossing(msgspec.Struct, frozen=True, kw_only=True):
    """A verdict's value going past its threshold (or back) at a recorded frame."""

    at: datetime
    signal: str
    color: Color
    value: float
    threshold: float
    above: bool
    """True when the value crossed above the threshold, False when it came back under it."""


def crossings(record: IncidentRecord) -> tuple[Crossing, ...]:
    """Every threshold crossing in the frames, in time order."""
    state: dict[tuple[str, Color], bool] = {}
    found = []
    for frame in record.recording.frames:
        for v in frame.verdicts:
            if v.value is None or v.threshold is None:
                continue
            above, key = v.value > v.threshold, (v.signal, v.color)
            if state.get(key, False) != above:
                found.append(Crossing(at=frame.at, signal=v.signal, color=v.color, value=v.value,
                                      threshold=v.threshold, above=above))
            state[key] = above
    return tuple(found)


def app_at(record: IncidentRecord, index: int) -> App:
    """The app as the guard saw it at frame `index` (clamped to the recording)."""
    incident, frame = record.incident, frame_at(record, index)
    slots = {s.color: Slot(color=s.color, version=s.version, image="", desired=s.desired,
                           ready=s.ready, available=s.ready) for s in frame.colors}
    for color in COLORS:
        slots.setdefault(color, Slot(color=color, version="", image="", desired=0, ready=0,
                                     available=0))
    metrics = tuple(ColorMetrics(color=s.color, error_rate=s.error_rate, p95_ms=s.p95_ms, rps=s.rps)
                    for s in frame.colors)
    watched = next((v.color for v in frame.verdicts), incident.color)
    return App(name=incident.app, namespace=incident.namespace, context=incident.context,
               blue=slots["blue"], green=slots["green"],
               traffic=Traffic(live=frame.live, weights=Weights(blue=frame.blue, green=100 - frame.blue),
                               router=frame.router),
               metrics=metrics, verdicts=frame.verdicts, guard=frame.guard or "armed",
               guard_report=GuardReport(at=frame.at, watched=watched, decision=frame.decision,
                                        verdicts=frame.verdicts))


def frame_at(record: IncidentRecord, index: int) -> Frame:
    """Frame `index`, clamped to the recording (which is never empty when replayed)."""
    frames = record.recording.frames
    return frames[max(0, min(index, len(frames) - 1))]


def series_until(record: IncidentRecord, index: int,
                 signal: str) -> dict[str, tuple[tuple[float, float], ...]]:
    """Samples of `signal` (`error_rate`, `p95_ms`, `rps`) per color, up to frame `index`."""
    frames = record.recording.frames[:max(0, index) + 1]
    out: dict[str, tuple[tuple[float, float], ...]] = {}
    for color in COLORS:
        out[color] = tuple((f.at.timestamp(), value) for f in frames
                           if (value := getattr(f.sample(color), signal)) is not None)
    return out


def index_at(record: IncidentRecord, seconds: float) -> int:
    """The last frame at or before `seconds` after the recording's start."""
    frames = record.recording.frames
    if not frames:
        return 0
    start = frames[0].at
    return max(0, sum(1 for f in frames if (f.at - start).total_seconds() <= seconds) - 1)


def offset(record: IncidentRecord, at: datetime) -> float:
    """Seconds from detection to `at` (negative before it)."""
    return (at - record.incident.detected_at).total_seconds()


def timeline(record: IncidentRecord) -> Iterator[tuple[datetime, str, str]]:
    """(when, kind, text) in time order: `frame` rows, `cross` and `mark` events; marks and
    crossings come before the frame recorded at the same moment."""
    rows: list[tuple[datetime, int, str, str]] = []
    for c in crossings(record):
        verb = "crossed above" if c.above else "came back under"
        rows.append((c.at, 0, "cross", f"{c.color} {c.signal} {verb} its threshold: "
                     f"{_value(c.signal, c.value)} {'>' if c.above else '<='} "
                     f"{_value(c.signal, c.threshold)}"))
    rows += [(m.at, 1, "mark", m.what) for m in record.recording.marks]
    rows += [(f.at, 2, "frame", frame_line(f)) for f in record.recording.frames]
    for at, _, kind, text in sorted(rows, key=lambda r: (r[0], r[1])):
        yield at, kind, text


def frame_line(frame: Frame) -> str:
    """One frame in one line: traffic, each color's signals, the guard's decision."""
    parts = [f"live {frame.live} {frame.blue}/{100 - frame.blue}"]
    for s in frame.colors:
        parts.append(f"{s.color} {s.version or '-'} ready {s.ready}/{s.desired} err "
                     f"{_pct(s.error_rate)} p95 {_ms(s.p95_ms)} rps {_num(s.rps)} "
                     f"restarts {s.restarts_5m}")
    verdicts = " ".join(f"{v.color}:{v.signal}={v.outcome}({_value(v.signal, v.value)})"
                        for v in frame.verdicts)
    parts.append(f"{verdicts or 'no verdicts'} -> {frame.decision or '-'}")
    return " | ".join(parts)


def _value(signal: str, value: float | None) -> str:
    return _pct(value) if signal == "error-rate" else _num(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}ms"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
