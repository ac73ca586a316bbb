"""An incident played back on the app screen's own layout: the slots, charts and signals the
operator saw, rebuilt from the guard's recording at a time cursor (`backend/guard/replay.py`).

The cursor moves by keys (step, seek to the next mark, speed) and, while playing, by a timer
that calls `advance` with the real seconds elapsed; tests call `advance` themselves.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer

from turnout.backend.guard import replay
from turnout.backend.guard.recording import IncidentRecord
from turnout.backend.models import COLORS, App
from turnout.tui.backend import app_of
from turnout.tui.render import color_text, health_text, safe, traffic_bar, verdicts_text
from turnout.tui.widgets.app_body import app_body
from turnout.tui.widgets.chart_panel import ChartPanel
from turnout.tui.widgets.live_text import LiveText
from turnout.tui.widgets.slot_panel import SlotPanel

TICK = 0.1
"""Real seconds between two cursor moves while playing."""


class IncidentScreen(Screen[None]):
    """One incident's recording, replayed at 1×–60× with a time cursor."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="incident.back"),
        Binding("space", "play", "Play/pause", id="incident.play"),
        Binding("right", "step(1)", "Step", id="incident.step"),
        Binding("left", "step(-1)", "Step back", id="incident.back-step"),
        Binding("plus", "speed(1)", "Faster", id="incident.faster"),
        Binding("minus", "speed(-1)", "Slower", id="incident.slower"),
        Binding("n", "mark(1)", "Next mark", id="incident.next-mark"),
        Binding("p", "mark(-1)", "Previous mark", id="incident.previous-mark"),
        Binding("home", "seek(0)", "Start", id="incident.start", priority=True),
        Binding("end", "seek(-1)", "End", id="incident.end", priority=True),
    ]

    index: reactive[int] = reactive(0)
    """The frame under the time cursor."""
    speed: reactive[int] = reactive(1)
    """Times real time while playing (one of `replay.SPEEDS`)."""
    playing: reactive[bool] = reactive(False)

    def __init__(self, record: IncidentRecord) -> None:
        super().__init__()
        self.record = record
        self.position = 0.0
        """Seconds from the recording's first frame to the cursor."""
        self._timer: Timer | None = None
        self._composed = False

    def compose(self) -> ComposeResult:
        yield LiveText(id="cursor")
        yield from app_body("errors % (recorded)", "p95 latency ms (recorded)")
        yield Footer()

    def on_mount(self) -> None:
        self._timer = self.set_interval(TICK, lambda: self.advance(TICK), pause=True)
        for table in self.query(DataTable):
            table.can_focus = False  # the cursor keys move the time cursor, not a pod row
        self._composed = True
        self._show()

    @property
    def frames(self) -> int:
        """How many frames the recording holds."""
        return len(self.record.recording.frames)

    def at(self, index: int) -> datetime:
        """The time of frame `index`."""
        return replay.frame_at(self.record, index).at

    def advance(self, seconds: float) -> None:
        """Move the cursor `seconds` of real time at the current speed (the playback's tick)."""
        end = self._offset(self.frames - 1)
        self.position = min(self.position + seconds * self.speed, end)
        self.index = replay.index_at(self.record, self.position)
        if self.position >= end:
            self.playing = False

    def _offset(self, index: int) -> float:
        return (self.at(index) - self.at(0)).total_seconds() if self.frames else 0.0

    def _move_to(self, index: int) -> None:
        self.index = max(0, min(index, self.frames - 1))
        self.position = self._offset(self.index)

    def action_play(self) -> None:
        if not self.playing and self.index >= self.frames - 1:
            self._move_to(0)  # at the end, play starts over
        self.playing = not self.playing

    def action_step(self, frames: int) -> None:
        self.playing = False
        self._move_to(self.index + frames)

    def action_speed(self, change: int) -> None:
        at = replay.SPEEDS.index(self.speed) + change
        self.speed = replay.SPEEDS[max(0, min(at, len(replay.SPEEDS) - 1))]

    def action_seek(self, index: int) -> None:
        self._move_to(index if index >= 0 else self.frames - 1)

    def action_mark(self, direction: int) -> None:
        """The cursor to the next (or previous) frame at or after a mark (detected, action...)."""
        now = self.at(self.index)
        times = sorted({m.at for m in self.record.recording.marks})
        target = (next((t for t in times if t > now), None) if direction > 0
                  else next((t for t in reversed(times) if t < now), None))
        if target is None:
            return
        frames = self.record.recording.frames
        found = next((i for i, f in enumerate(frames) if f.at >= target), self.frames - 1)
        if direction < 0:
            found = max((i for i, f in enumerate(frames) if f.at <= target), default=0)
        self._move_to(found)

    def watch_playing(self, playing: bool) -> None:
        if self._timer is not None:
            (self._timer.resume if playing else self._timer.pause)()
        self._show_cursor()

    def watch_speed(self, _: int) -> None:
        self._show_cursor()

    def watch_index(self, _: int) -> None:
        self._show()

    def _show(self) -> None:
        if not self._composed or not self.frames:
            return
        app = replay.app_at(self.record, self.index)
        palette = app_of(self).palette
        now = self.at(self.index)
        self._show_cursor()
        self._show_traffic(app)
        for color in COLORS:
            self.query_one(f"#slot-{color}", SlotPanel).show(
                app.slot(color), live=color == app.traffic.live,
                weight=app.traffic.weights.of(color), now=now, palette=palette)
        self.query_one("#chart-errors", ChartPanel).series = replay.series_until(
            self.record, self.index, "error_rate")
        self.query_one("#chart-latency", ChartPanel).series = replay.series_until(
            self.record, self.index, "p95_ms")
        self.query_one("#verdicts", LiveText).show(Text.assemble(
            verdicts_text(app, palette), self._decision(app), self._marks(now)))

    def _show_cursor(self) -> None:
        if not self._composed or not self.frames:
            return
        incident, now = self.record.incident, self.at(self.index)
        width = 40
        filled = round(width * self.index / max(self.frames - 1, 1))
        self.query_one("#cursor", LiveText).show(Text.assemble(
            ("replay ", "bold"), safe(incident.id), "  ",
            "▶ playing" if self.playing else "❚❚ paused", f"  {self.speed}×  ",
            f"{now:%H:%M:%S} ({replay.offset(self.record, now):+.1f}s from detection)  ",
            f"frame {self.index + 1}/{self.frames}\n", "━" * filled, "│", "─" * (width - filled)))

    def _show_traffic(self, app: App) -> None:
        palette = app_of(self).palette
        self.query_one("#traffic", LiveText).show(Text.assemble(
            safe(f"{app.namespace}/{app.name}"), "  live ",
            color_text(app.traffic.live, palette, live=True), " ",
            traffic_bar(app.traffic, palette, width=24), "  via ", app.traffic.router,
            "\nhealth ", health_text(app.health, palette), "  guard ", safe(app.guard)))

    @staticmethod
    def _decision(app: App) -> Text:
        report = app.guard_report
        if report is None:
            return Text()
        return Text.assemble(("\nguard decided ", "bold"), safe(report.decision or "-"),
                             f" watching {report.watched}")

    def _marks(self, now: datetime) -> Text:
        out = Text()
        for mark in self.record.recording.marks:
            if mark.at <= now:
                out.append_text(Text.assemble(
                    ("\n" + f"{replay.offset(self.record, mark.at):+.1f}s ", "bold"),
                    safe(mark.what)))
        return out
