"""Feature flags: state, rollout stage and split, targeting; toggle, stage, explain."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from turnout.backend.errors import TurnoutError
from turnout.backend.flags.flag_console import FlagChange
from turnout.backend.flags.model import Flag, Segment
from turnout.backend.sanitize import inert
from turnout.tui.backend import app_of, service_of
from turnout.tui.render import flag_row, safe
from turnout.tui.screens.confirm import ConfirmRequest, ConfirmScreen
from turnout.tui.screens.explain import ExplainScreen
from turnout.tui.widgets.status_bar import StatusBar
from turnout.tui.widgets.table_sync import sync_rows

COLUMNS = (("FLAG", 16), ("STATE", 6), ("SPLIT", 24), ("STAGE", 5), ("APP", 10),
           ("TARGETING", 17), ("VER", 4))
DESCRIPTION_MIN = 30
"""The description column takes the rest of the width, at least this; the flag under the
cursor is also described in full under the table."""


class FlagsScreen(Screen[None]):
    """Every flag of the configured store, refreshed after each change."""

    AUTO_FOCUS = "#flags"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="flags.back"),
        Binding("space", "toggle", "On/off", id="flags.toggle"),
        Binding("right_square_bracket", "stage(1)", "Next stage", id="flags.stage-next"),
        Binding("left_square_bracket", "stage(-1)", "Prev stage", id="flags.stage-prev"),
        Binding("e", "explain", "Explain", id="flags.explain"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.flags: tuple[Flag, ...] = ()
        self._shown: dict[str, tuple[Text, ...]] = {}
        self._description_width = DESCRIPTION_MIN

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        table: DataTable[Text] = DataTable(id="flags", cursor_type="row", zebra_stripes=True)
        self._add_columns(table, self.app.size.width)
        yield table
        yield Static(id="flag-detail")
        yield Static(id="flag-problem")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @staticmethod
    def _description_for(width: int) -> int:
        fixed = sum(w + 2 for _, w in COLUMNS)
        return max(DESCRIPTION_MIN, width - fixed - 4)

    def _add_columns(self, table: DataTable[Text], width: int) -> None:
        self._description_width = self._description_for(width)
        for label, column_width in COLUMNS:
            table.add_column(Text(label), width=column_width)
        table.add_column(Text("DESCRIPTION"), width=self._description_width)

    def on_resize(self, event: Resize) -> None:
        if self._description_for(event.size.width) == self._description_width:
            return
        table = self.query_one("#flags", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        self._add_columns(table, event.size.width)
        self._shown = sync_rows(table, {f.key: flag_row(f, app_of(self).palette) for f in self.flags}, {})
        table.move_cursor(row=row)

    @on(DataTable.RowHighlighted, "#flags")
    def _describe(self) -> None:
        """The flag under the cursor, its description in full at any width."""
        flag = self.selected
        self.query_one("#flag-detail", Static).update(
            Text() if flag is None else Text.assemble((inert(flag.key, single_line=True), "bold"), "  ",
                                                      safe(flag.description or "(no description)")))

    @property
    def selected(self) -> Flag | None:
        """The flag under the cursor."""
        table = self.query_one("#flags", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((f for f in self.flags if f.key == key), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle", "stage") and (service_of(self).read_only
                                              or self.selected is None or self.selected.read_only):
            return None
        return True

    def why_refused(self, action: str) -> str:
        """Why a greyed-out flag key does nothing, for the toast the app shows."""
        if action not in ("toggle", "stage"):
            return ""
        if service_of(self).read_only:
            return "Read-only mode: flags cannot be changed in this session."
        flag = self.selected
        if flag is not None and flag.read_only:
            # outside text: the app's toasts never parse markup, so it is shown as it is
            return (f"Flag {inert(flag.key, single_line=True)} is read-only in Turnout: "
                    f"{inert(flag.read_only, single_line=True)}")
        return "No flag under the cursor."

    class Listed(Message, bubble=False):
        """A read of every flag, or why there is none: no store, or the store failed."""

        def __init__(self, flags: tuple[Flag, ...] = (), error: TurnoutError | None = None,
                     *, configured: bool = True) -> None:
            super().__init__()
            self.flags = flags
            self.error = error
            self.configured = configured

    class Written(Message, bubble=False):
        """A flag change ended: what was saved, or why nothing was; the list is read again
        when `reload`."""

        def __init__(self, title: str, saved: Flag | Segment | None = None,
                     error: TurnoutError | None = None, *, reload: bool = True) -> None:
            super().__init__()
            self.title = title
            self.saved = saved
            self.error = error
            self.reload = reload

    @work(exclusive=True, group="flags", exit_on_error=False)
    async def load(self) -> None:
        """Read every flag and post the list (or why it could not be read)."""
        console = service_of(self).flags
        if console is None:
            self.post_message(self.Listed(configured=False))
            return
        try:
            flags = await console.list()
        except TurnoutError as err:
            self.post_message(self.Listed(error=err))
            return
        self.post_message(self.Listed(flags))

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        """Show the list; a store failure keeps the last list and says why."""
        problem = self.query_one("#flag-problem", Static)
        if not message.configured:
            problem.update("No flag store configured: set flags_url (or TURNOUT_FLAGS_URL).")
            return
        if (err := message.error) is not None:
            problem.update(Text.assemble(f"{err.title}: ", safe(str(err)), " (showing the last list)"))
            return
        self.flags = message.flags
        problem.update("")
        palette = app_of(self).palette
        rows = {f.key: flag_row(f, palette) for f in self.flags}
        self._shown = sync_rows(self.query_one("#flags", DataTable), rows, self._shown)
        self._describe()

    @work(group="flag-action", exit_on_error=False)
    async def action_toggle(self) -> None:
        flag = self.selected
        if flag is None:
            return
        verb = "Turn ON" if not flag.on else "KILL (turn off)"
        lines = (Text.assemble("flag     ", safe(flag.key), f"  (version {flag.version})"),
                 Text.assemble("app      ", safe(flag.meta.app or "-")),
                 Text(f"state    {'on' if flag.on else 'off'} → {'off' if flag.on else 'on'}"))
        if await self.app.push_screen_wait(ConfirmScreen(ConfirmRequest(
                title=f"{verb}: {flag.key}", lines=lines, confirm_label=verb))):
            await self._write("off" if flag.on else "on", flag.key, verb)

    @work(group="flag-action", exit_on_error=False)
    async def action_stage(self, step: int) -> None:
        flag = self.selected
        if flag is None or flag.plan is None:
            self.notify("This flag has no staged plan.", severity="warning")
            return
        index = flag.plan.stage + step
        if not 0 <= index < len(flag.plan.stages):
            self.notify("No stage that way.", severity="warning")
            return
        try:
            change = await service_of(self).plan_flag("stage", flag.key, step=step)
        except TurnoutError as err:
            self.post_message(self.Written("Stage", error=err, reload=False))
            return
        moves = change.preview.describe() if change.preview else "no user changes variant"
        lines = (Text.assemble("flag     ", safe(flag.key)),
                 Text.assemble(f"rollout  {flag.rollout.get(flag.plan.variant, 0)}% → "
                               f"{flag.plan.stages[index]}% of users get ", safe(flag.plan.variant)),
                 Text.assemble("moves    ", safe(moves)))
        if await self.app.push_screen_wait(ConfirmScreen(ConfirmRequest(
                title=f"Stage {flag.key}", lines=lines, confirm_label="Move stage"))):
            await self._commit(change, "Stage")

    async def _write(self, verb: str, key: str, title: str) -> None:
        try:
            change = await service_of(self).plan_flag(verb, key)
        except TurnoutError as err:
            self.post_message(self.Written(title, error=err))
            return
        await self._commit(change, title)

    async def _commit(self, change: FlagChange, title: str) -> None:
        """Write the change as planned (conditional on the version it was planned from)."""
        try:
            saved = await service_of(self).write_flag(change, reason="tui")
        except TurnoutError as err:
            self.post_message(self.Written(title, error=err))
        else:
            self.post_message(self.Written(title, saved))

    @on(Written)
    def _written(self, message: Written) -> None:
        """Say what was saved (or why not), then read the list again."""
        if (err := message.error) is not None:
            self.notify(str(err), title=err.title, severity="error", markup=False)
        elif (saved := message.saved) is not None:
            state = f"{'on' if saved.on else 'OFF'}, " if isinstance(saved, Flag) else ""
            self.notify(f"{saved.key}: {state}version {saved.version}", title=message.title,
                        markup=False)
        if message.reload:
            self.load()

    def action_explain(self) -> None:
        flag = self.selected
        if flag is not None:
            self.app.push_screen(ExplainScreen(flag.key))

    @on(DataTable.RowSelected, "#flags")
    def _selected(self) -> None:
        self.action_explain()
