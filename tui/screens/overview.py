"""The start screen: every app of the context, one row each."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.widgets import DataTable, Input, Static

from turnout.backend.contexts import ContextApps
from turnout.backend.models import App
from turnout.tui.backend import app_of, service_of
from turnout.tui.keys import elsewhere
from turnout.tui.render import OVERVIEW_COLUMNS, contexts_line, overview_row, safe
from turnout.tui.screens.access import GuardedScreen
from turnout.tui.widgets.fixed_table import FixedTable
from turnout.tui.widgets.status_bar import StatusBar
from turnout.tui.widgets.table_sync import sync_rows

WIDTHS = {"CONTEXT": 12, "APP": 12, "NAMESPACE": 11, "LIVE": 8, "TRAFFIC b/g": 18, "BLUE": 11, "GREEN": 11,
          "HEALTH": 11, "GUARD": 9, "OP": 10}
"""Fixed widths: live values change every second and columns must not jump under the cursor."""
PRIORITY = ("APP", "LIVE", "TRAFFIC b/g", "HEALTH", "GUARD", "OP", "BLUE", "GREEN", "NAMESPACE")
"""What a narrow terminal keeps first: at 80 columns, everything up to OP."""
NARROW_BAR = 5
"""The traffic bar's cells when not every column fits (the numbers stay)."""
CELL_PADDING = 2
SCROLLBAR = 2


def columns_for(width: int, *, contexts: bool = False) -> tuple[tuple[str, ...], int]:
    """The columns that fit `width` cells, in display order, and the traffic bar's width;
    with several `contexts`, the CONTEXT column first."""
    if contexts:
        shown, bar = columns_for(width - WIDTHS["CONTEXT"] - CELL_PADDING)
        return ("CONTEXT", *shown), bar
    budget = width - SCROLLBAR
    fixed = {c: w for c, w in WIDTHS.items() if c != "CONTEXT"}
    if sum(fixed.values()) + CELL_PADDING * len(fixed) <= budget:
        return OVERVIEW_COLUMNS, 10
    chosen: set[str] = set()
    for column in PRIORITY:
        size = _width(column, NARROW_BAR) + CELL_PADDING
        if size > budget:
            break
        chosen.add(column)
        budget -= size
    return tuple(c for c in OVERVIEW_COLUMNS if c in chosen), NARROW_BAR


def _width(column: str, bar: int) -> int:
    """A column's cells; the traffic column is its bar and `100/0 `."""
    return bar + 8 if column == "TRAFFIC b/g" else WIDTHS[column]


class OverviewScreen(GuardedScreen):
    """Apps with live color, split, readiness and health; Enter opens one."""

    AUTO_FOCUS = "#apps"
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="overview.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="overview.clear"),
        Binding("enter", "open", "Open", id="overview.open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shown: dict[str, tuple[Text, ...]] = {}
        self._columns: tuple[tuple[str, ...], int] = ((), 10)

    @property
    def several(self) -> bool:
        """Whether the session lists several contexts side by side."""
        return getattr(self.app, "contexts", None) is not None

    def row_key(self, app: App) -> str:
        """A row's key: the app, and its context when there are several."""
        key = f"{app.namespace}/{app.name}"
        return f"{app.context}/{key}" if self.several else key

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        if self.several:
            yield Static(id="contexts")
        table = FixedTable(id="apps", cursor_type="row", zebra_stripes=True)
        self._set_columns(table, self.app.size.width)
        yield table
        yield Static(id="blocked", classes="-hidden")

    def on_mount(self) -> None:
        # The footer comes after the first frame, as the last child, as Textual's `Lazy` would
        # mount it: its module, its classes and the styling of each of its keys are the
        # costliest part of drawing the first screen, and the apps matter first.
        self.call_after_refresh(self._mount_footer)
        self.watch(self.app, "apps", self._show, init=True)
        if self.several:
            self.watch(self.app, "context_states", self._show_contexts, init=True)

    async def _mount_footer(self) -> None:
        from textual.widgets import Footer

        await self.mount(Footer())
        self.refresh_bindings()  # the footer draws its keys when the bindings are next published

    def _show_contexts(self, states: tuple[ContextApps, ...]) -> None:
        """Each context's own state: live with its apps, or unavailable and why."""
        self.query_one("#contexts", Static).update(contexts_line(states, app_of(self).palette))

    def on_resize(self, event: Resize) -> None:
        table = self.query_one("#apps", DataTable)
        row = table.cursor_row
        if self._set_columns(table, event.size.width):
            self._show(app_of(self).apps)
            table.move_cursor(row=row)

    def _set_columns(self, table: DataTable[Text], width: int) -> bool:
        """Show the columns that fit `width`; whether they changed (the rows then must be redrawn)."""
        columns = columns_for(width, contexts=self.several)
        if columns == self._columns:
            return False
        self._columns = columns
        table.clear(columns=True)
        self._shown = {}
        for label in columns[0]:
            table.add_column(Text(label), width=_width(label, columns[1]))
        return True

    @property
    def selected(self) -> App | None:
        """The app under the cursor."""
        table = self.query_one("#apps", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((a for a in app_of(self).apps if self.row_key(a) == key), None)

    def _show(self, apps: tuple[App, ...]) -> None:
        table = self.query_one("#apps", DataTable)
        box = self._filter_box()
        needle = box.value.strip().lower() if box is not None else ""
        shown = [a for a in apps if needle in f"{a.namespace}/{a.name}".lower()]
        palette = app_of(self).palette
        columns, bar = self._columns
        rows = {self.row_key(a): overview_row(a, palette, columns, bar) for a in shown}
        self._shown = sync_rows(table, rows, self._shown)

    def _filter_box(self) -> Input | None:
        """The filter's input, once the operator first asked for it."""
        found = self.query("#filter")
        return found.first(Input) if found else None

    async def action_filter(self) -> None:
        """Show the filter; its input is mounted on first use (the first frame does without
        it and its styles)."""
        box = self._filter_box()
        if box is None:
            box = Input(id="filter", placeholder="filter apps…")
            await self.mount(box, before=self.query_one("#apps"))
        box.remove_class("-hidden")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self._filter_box()
        if box is not None:
            box.value = ""
            box.add_class("-hidden")
        self.query_one("#apps").focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._show(app_of(self).apps)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#apps").focus()

    @on(DataTable.RowHighlighted, "#apps")
    def _highlighted(self) -> None:
        app = self.selected
        if app is not None:
            self.load_blocker(app)

    def show_blocker(self, app: App) -> None:
        note = self.query_one("#blocked", Static)
        note.set_class(not self.blocked_note, "-hidden")
        style = app_of(self).palette.get("health-bad", "")
        note.update(Text.assemble(("⊘ actions unavailable on ", style),
                                  safe(f"{app.namespace}/{app.name}: {self.blocked_note}")))

    @on(DataTable.RowSelected, "#apps")
    def action_open(self) -> None:
        app = self.selected
        context = service_of(self).context
        if app is not None and app.context != context:
            self.app.notify(elsewhere(app, context), title="Other context", severity="warning")
        elif app is not None:
            app_of(self).open_app(app)
