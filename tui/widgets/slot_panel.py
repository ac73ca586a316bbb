"""One color's side of the app screen: version, image, replicas and its pods."""

from __future__ import annotations

import heapq
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from turnout.backend.models import Color, Pod, Slot
from turnout.backend.timefmt import age_changes_at
from turnout.tui.render import Palette, color_text, pod_row, ready_text, safe
from turnout.tui.widgets.fixed_table import FixedTable
from turnout.tui.widgets.live_text import LiveText
from turnout.tui.widgets.table_sync import sync_rows, update_rows

POD_COLUMNS = (("STATUS", 10), ("READY", 6), ("RST", 4), ("AGE", 4))
"""Fixed widths, each with its separating space: columns must not jump as pods come and go.
The pod's name takes what is left of the panel (`name_width`)."""
NAME_MIN = 10
SCROLLBAR = 2
Row = tuple[tuple[Pod, str, datetime, datetime], tuple[Text, ...]]
"""A drawn pod row: (pod, theme, drawn at, age turns over at) and its cells."""


class SlotPanel(Vertical):
    """Shows one slot; `show` updates it in place without refetching anything."""

    DEFAULT_CSS = """
    SlotPanel { border: round $panel; height: 1fr; padding: 0 1; }
    SlotPanel.-blue { border-title-color: $slot-blue; }
    SlotPanel.-green { border-title-color: $slot-green; }
    SlotPanel.-live { border: heavy $primary; }
    SlotPanel > Static { height: auto; }
    SlotPanel > DataTable { height: 1fr; }
    """

    def __init__(self, color: Color) -> None:
        super().__init__(id=f"slot-{color}", classes=f"-{color}")
        self.color = color
        self.border_title = color
        self._shown: dict[str, tuple[Text, ...]] = {}
        self._rows: dict[str, Row] = {}
        self._drawn: tuple[tuple[Pod, ...], str] | None = None
        self._aged: set[str] = set()
        """Rows out of view whose shown age turned over: redrawn once scrolled into view."""
        self._turns: list[tuple[datetime, str]] = []
        """When each drawn row's shown age turns over (a heap; entries of rows redrawn since
        may linger until due, when redrawing them is a cache hit)."""
        self._name_width = NAME_MIN
        self._sized = False
        """Whether the panel has been laid out: rows drawn before then would be drawn again
        at the name column's real width."""
        self._last: tuple[Slot, datetime, Palette] | None = None

    def compose(self) -> ComposeResult:
        yield LiveText(id=f"slot-{self.color}-summary")
        table = FixedTable(id=f"pods-{self.color}", cursor_type="row", zebra_stripes=True,
                           cell_padding=0)
        self._add_columns(table)
        yield table

    def _add_columns(self, table: DataTable[Text]) -> None:
        for label, width in POD_COLUMNS:
            table.add_column(Text(label), width=width)
        table.add_column(Text("POD"), width=self._name_width)

    def on_mount(self) -> None:
        self.watch(self.query_one(DataTable), "scroll_y", self._scrolled, init=False)

    def on_resize(self) -> None:
        """Give the pod's name what the other columns leave; redraw the rows for it."""
        fixed = sum(width for _, width in POD_COLUMNS)
        width = max(NAME_MIN, self.content_size.width - fixed - SCROLLBAR)
        first, self._sized = not self._sized, True
        if width != self._name_width:
            self._name_width = width
            table = self.query_one(DataTable)
            table.clear(columns=True)
            self._add_columns(table)
            self._shown, self._rows, self._drawn = {}, {}, None
        elif not first:
            return
        if self._last is not None:
            self._update_pods(*self._last)

    def show(self, slot: Slot, *, live: bool, weight: int, now: datetime,
             palette: Palette) -> None:
        """Render `slot`; pods are replaced row by row, keyed by pod name."""
        self.set_class(live, "-live")
        self.border_title = f"{self.color} · {'live' if live else 'idle'} · {weight}%"
        summary = Text.assemble(color_text(self.color, palette, live=live), "  ",
                                safe(slot.version), "  ready ", ready_text(slot, palette),
                                "\n", safe(slot.image),
                                f"\npods loading… {len(slot.pods)} so far" if slot.pods_loading
                                else "")
        self.query_one(LiveText).show(summary)
        self._last = (slot, now, palette)
        if self._sized:
            self._update_pods(slot, now, palette)

    def _update_pods(self, slot: Slot, now: datetime, palette: Palette) -> None:
        """Change only what changed: thousands of pods must not re-lay the whole table, and
        the same pods before any shown age turns over need no work at all."""
        theme = self.app.theme
        if self._drawn is not None and self._drawn[1] == theme:
            if self._drawn[0] == slot.pods and not self._due(now):
                return
            if self._update_changed(self._drawn[0], slot.pods, now, palette, theme):
                return
        drawn = {pod.name: self._row(pod, now, palette, theme) for pod in slot.pods}
        self._aged.clear()
        rows = {name: row for name, (_, row) in drawn.items()}
        self._shown = sync_rows(self.query_one(DataTable), rows, self._shown)
        for gone in self._rows.keys() - rows.keys():
            del self._rows[gone]
        self._drawn = (slot.pods, theme)
        self._turns = [(key[3], name) for name, (key, _) in drawn.items()]
        heapq.heapify(self._turns)

    def _due(self, now: datetime) -> bool:
        """Whether some shown age turns over by `now`."""
        return bool(self._turns) and self._turns[0][0] <= now

    def _update_changed(self, before: tuple[Pod, ...], pods: tuple[Pod, ...], now: datetime,
                        palette: Palette, theme: str) -> bool:
        """When `pods` are the pods drawn, in the same order, redraw only the rows of those
        that changed (the watch cache hands unchanged pods over as the same records) and of
        those whose shown age turned over, and say so; False when pods came or went (the
        caller then syncs every row)."""
        if len(before) != len(pods):
            return False
        changed = [(old, new) for old, new in zip(before, pods, strict=True) if old is not new]
        if any(old.name != new.name for old, new in changed):
            return False
        redraw = {new.name: new for _, new in changed}
        self._aged.difference_update(redraw)
        table, view = self.query_one(DataTable), self._in_view()
        while self._due(now):
            _, name = heapq.heappop(self._turns)
            if name in redraw or name not in self._rows:
                continue
            if table.get_row_index(name) in view:
                redraw[name] = self._rows[name][0][0]
            else:  # out of view: its age is redrawn when it is scrolled into view
                self._aged.add(name)
        self._redraw(redraw, now, palette, theme)
        self._drawn = (pods, theme)
        return True

    def _redraw(self, pods: dict[str, Pod], now: datetime, palette: Palette, theme: str) -> None:
        """Redraw the rows of `pods` (all in the table), and note when their ages turn over."""
        rows = {name: self._row(pod, now, palette, theme) for name, pod in pods.items()}
        update_rows(self.query_one(DataTable), {n: row for n, (_, row) in rows.items()},
                    self._shown)
        for name, (key, _) in rows.items():
            heapq.heappush(self._turns, (key[3], name))
        if len(self._turns) > 2 * len(self._rows):  # entries of rows redrawn since: drop them
            self._turns = [(key[3], name) for name, (key, _) in self._rows.items()
                           if name not in self._aged]
            heapq.heapify(self._turns)

    def _in_view(self) -> range:
        """The indexes of the pod rows on screen."""
        table = self.query_one(DataTable)
        top = int(table.scroll_y)
        return range(top, top + table.size.height)

    def _scrolled(self) -> None:
        """Redraw the rows scrolled into view whose shown age turned over meanwhile."""
        if not self._aged or self._last is None or self._drawn is None:
            return
        table, view = self.query_one(DataTable), self._in_view()
        shown = {n: self._rows[n][0][0] for n in self._aged
                 if n in self._rows and table.get_row_index(n) in view}
        self._aged.difference_update(shown)
        _, now, palette = self._last
        self._redraw(shown, now, palette, self._drawn[1])

    def _row(self, pod: Pod, now: datetime, palette: Palette, theme: str) -> Row:
        """The pod's cells, rebuilt only when the pod or the theme changed or its shown age
        turned over: an unchanged pod costs a lookup and two compares, not its age."""
        cached = self._rows.get(pod.name)
        if cached is not None:
            was, was_theme, drawn_at, changes_at = cached[0]
            if (was is pod or was == pod) and was_theme == theme and drawn_at <= now < changes_at:
                return cached
        cached = ((pod, theme, now, age_changes_at(pod.started_at, now)),
                  pod_row(pod, now, palette, self._name_width))
        self._rows[pod.name] = cached
        return cached
