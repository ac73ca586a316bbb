"""The start screen: every app of the context, one row each."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input
from turnout.backend.models import App
from turnout.tui.render import overview_row
from turnout.tui.widgets.status_bar import StatusBar

COLUMNS = ("APP", "NAMESPACE", "LIVE", "TRAFFIC b/g", "BLUE", "GREEN", "HEALTH", "GUARD", "OP")


class OverviewScreen(Screen[None]):
    """Apps with live color, split, readiness and health; Enter opens one."""

    AUTO_FOCUS = "#apps"
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="overview.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="overview.clear"),
        Binding("enter", "open", "Open", id="overview.open"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Input(id="filter", placeholder="filter apps…", classes="-hidden")
        table: DataTable[Text] = DataTable(id="apps", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "apps", self._show, init=True)

    @property
    def selected(self) -> App | None:
        """The app under the cursor."""
        table = self.query_one("#apps", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((a for a in self.app.apps if f"{a.namespace}/{a.name}" == key), None)  # type: ignore[attr-defined]

    def _show(self, apps: tuple[App, ...]) -> None:
        table = self.query_one("#apps", DataTable)
        needle = self.query_one("#filter", Input).value.strip().lower()
        shown = [a for a in apps if needle in f"{a.namespace}/{a.name}".lower()]
        keep = self.selected
        table.clear()
        palette = self.app.theme_variables
        for app in shown:
            table.add_row(*overview_row(app, palette), key=f"{app.namespace}/{app.name}")
        if keep is not None and f"{keep.namespace}/{keep.name}" in table.rows:
            table.move_cursor(row=table.get_row_index(f"{keep.namespace}/{keep.name}"))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("-hidden")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.add_class("-hidden")
        self.query_one("#apps").focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._show(self.app.apps)  # type: ignore[attr-defined]

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#apps").focus()

    @on(DataTable.RowSelected, "#apps")
    def action_open(self) -> None:
        app = self.selected
        if app is not None:
            self.app.open_app(app)  # type: ignore[attr-defined]
