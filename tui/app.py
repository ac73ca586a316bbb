"""The Turnout TUI: the app-wide state, live refresh, and confirmed actions."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.actions import ActionParseResult
from textual.app import App as TextualApp
from textual.binding import Binding
from textual.dom import DOMNode
from textual.filter import Monochrome, NoColor
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from turnout.backend.config import Config
from turnout.backend.errors import TurnoutError
from turnout.backend.guard.engine import Evaluation
from turnout.backend.models import ActionResult, App
from turnout.backend.release import DeployRequest, release_line
from turnout.backend.release.model import Steered
from turnout.backend.sanitize import inert
from turnout.backend.service import ReleaseService
from turnout.themes import THEMES, domain_defaults
from turnout.tui.actions import RELEASE_ACTIONS, ReleaseAction, describe
from turnout.tui.app_verbs import change_slot, take_lock
from turnout.tui.commands import AppsProvider
from turnout.tui.keys import APP_ACTIONS, help_text, refusal
from turnout.tui.messages import ActionFinished, AppsRefreshed, RefreshFailed
from turnout.tui.preferences import load_theme, save_theme
from turnout.tui.render import Palette, rich_palette, safe
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.screens.confirm import ConfirmRequest, ConfirmScreen
from turnout.tui.screens.deploy import DeployScreen
from turnout.tui.screens.flags import FlagsScreen
from turnout.tui.screens.help import HelpScreen
from turnout.tui.screens.history import HistoryScreen
from turnout.tui.screens.overview import OverviewScreen
from turnout.tui.screens.weight import WeightScreen

ANNOUNCED = frozenset({"rollback", "no safe target", "would roll back", "rollback failed"})
"""Guard decisions worth a toast; repeats come back as `already alerted` and stay quiet."""
RECONNECT_MIN = 0.5
RECONNECT_MAX = 10.0
"""Seconds between attempts to re-open the change stream, doubling up to this."""


def colourless(environ: Mapping[str, str]) -> bool:
    """NO_COLOR (any value, https://no-color.org) or a dumb terminal: no colour escapes at all;
    icons, words and bold still tell every state apart."""
    return "NO_COLOR" in environ or environ.get("TERM", "") in ("dumb", "unknown")


def outcome_line(outcome: ActionResult | Steered) -> str:
    """A verb's outcome in one line for a toast."""
    if isinstance(outcome, Steered):
        return f"{outcome.message}. {outcome.note}" if outcome.note else outcome.message
    w = outcome.after.weights
    return (f"{outcome.namespace}/{outcome.app}: live {outcome.after.live}, "
            f"blue {w.blue}% / green {w.green}%")


def outcome_ok(outcome: ActionResult | Steered) -> bool:
    """Whether the outcome is what the operator asked for."""
    return isinstance(outcome, ActionResult) or outcome.exit_code == 0


class TurnoutApp(TextualApp[int]):
    """One screen for releases: built on a `ReleaseService` that is passed in."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "Turnout"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = TextualApp.COMMANDS | {AppsProvider}
    BINDINGS = [
        Binding("ctrl+p", "command_palette", "Palette", show=False, priority=True,
                id="palette"),
        Binding("colon", "command_palette", "Palette", show=False, id="jump"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("r", "refresh", "Refresh", show=False, id="refresh"),
        Binding("T", "next_theme", "Theme", show=False, id="theme"),
        *(Binding(a.key, f"release('{a.id}')", a.label, id=a.id) for a in RELEASE_ACTIONS),
        Binding("x", "fire_drill", "Fire drill", id="fire-drill"),
        Binding("f", "flags", "Flags", id="flags"),
        Binding("g", "arm_guard", "Arm guard", id="guard"),
        Binding("h", "history", "History", id="history"),
        Binding("D", "deploy", "Deploy", id="deploy"),
        Binding("exclamation_mark", "panic", "Panic", id="panic"),
        Binding("S", "slot('scale')", "Scale", show=False, id="scale"),
        Binding("I", "slot('set-image')", "Set image", show=False, id="set-image"),
        Binding("L", "lock('lock')", "Lock", show=False, id="lock"),
        Binding("U", "lock('unlock')", "Unlock", show=False, id="unlock"),
    ]

    apps: reactive[tuple[App, ...]] = reactive((), always_update=True, repaint=False)
    """Every app of the context, from the latest refresh. Screens watch it and repaint what
    changed; a repaint of the whole app here would redraw every cell of the screen."""
    connection: reactive[str] = reactive("connecting")
    """Connection state shown in every screen's status bar."""

    def __init__(self, service: ReleaseService, config: Config, *, live: bool = True) -> None:
        super().__init__()
        if colourless(os.environ):
            # Textual maps NO_COLOR to greys and ignores TERM=dumb; its own NoColor filter
            # drops colour. No public switch exists for it, hence the private list.
            self.no_color = True
            self._filters = [*(f for f in self._filters if not isinstance(f, Monochrome)), NoColor()]
        self.service = service
        self.config = config
        self.live = live
        self._stale_since = datetime.now()
        for theme in THEMES:
            self.register_theme(theme)
        self._palette: tuple[str, Palette] = ("", {})
        self.theme = self._initial_theme(config)
        self.set_keymap(config.keymap)

    @property
    def palette(self) -> Palette:
        """The theme's variables as Rich styles, for the records rendered as `Text`."""
        if self._palette[0] != self.theme:
            self._palette = (self.theme, rich_palette(self.theme_variables))
        return self._palette[1]

    def _initial_theme(self, config: Config) -> str:
        """An explicit config/env theme wins; otherwise the one chosen last time."""
        chosen = config.theme if config.theme != Config().theme else load_theme() or config.theme
        return chosen if chosen in self.available_themes else "turnout-dark"

    def notify(self, message: str | Text, *, title: str = "",
               severity: SeverityLevel = "information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every toast, from any screen or worker, shows its text as text.

        Messages carry outside text (an error from the cluster, a lock holder, an image), so
        markup is never parsed, whatever the caller asked, and escape sequences are dropped.
        """
        plain = message.plain if isinstance(message, Text) else message
        super().notify(inert(plain), title=inert(title, single_line=True), severity=severity,
                       timeout=timeout, markup=False)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A worker that raised something unexpected says so: a key must never fail silently
        (workers run with exit_on_error=False so the console survives them)."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(f"{event.worker.name or 'background task'} failed: "
                        f"{type(error).__name__}: {error}", title="Unexpected error",
                        severity="error")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The domain variables (`$slot-blue`, `$health-bad`…) for themes that lack them, so
        any of Textual's own themes can be chosen from the palette."""
        return domain_defaults(self.current_theme)

    def _theme_changed(self, theme: Theme) -> None:
        save_theme(theme.name)

    def open_app(self, target: App) -> None:
        """Show one app's detail screen."""
        self.push_screen(AppScreen(target.name, target.namespace))

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.push_screen(OverviewScreen())
        self.refresh_apps()
        if self.live:
            self.watch_changes()
            if self.service.guard_here:
                self.run_guard()
            self.set_interval(self.config.refresh_seconds, self.refresh_apps)

    # --- live data: workers read, messages carry facts, handlers own state ----

    @work(exclusive=True, group="refresh", exit_on_error=False)
    async def refresh_apps(self) -> None:
        """Read every app once; the result arrives as `AppsRefreshed`."""
        try:
            apps = await self.service.apps()
        except TurnoutError as err:
            self.post_message(RefreshFailed(str(err), err.title))
            return
        self.post_message(AppsRefreshed(apps, self.service.clock()))

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def watch_changes(self) -> None:
        """Follow the cluster's change stream; each change asks for a refresh.

        A broken stream is retried with backoff for as long as the app runs: an API
        server outage must never end the operator's session.
        """
        backoff = RECONNECT_MIN
        while True:
            try:
                async for _ in self.service.changes():
                    backoff = RECONNECT_MIN
                    self.refresh_apps()
            except TurnoutError as err:
                self.post_message(RefreshFailed(str(err), err.title, reconnecting=True))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX)

    @on(AppsRefreshed)
    def _apps_refreshed(self, message: AppsRefreshed) -> None:
        self.apps = message.apps
        self.connection = "● live"

    @on(RefreshFailed)
    def _refresh_failed(self, message: RefreshFailed) -> None:
        if self.connection.startswith("● live") or self.connection == "connecting":
            self._stale_since = datetime.now()
            self.notify(message.error, title=message.title, severity="warning")
        state = "reconnecting, stale since" if message.reconnecting else "stale since"
        self.connection = f"{state} {self._stale_since:%H:%M:%S} ({message.title})"

    # --- actions ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what cannot be done here, rather than failing after a confirmation."""
        if action == "history":
            return isinstance(getattr(self.screen, "selected", None), App) or None
        if action in APP_ACTIONS:
            if isinstance(self.screen, FlagsScreen):
                return False  # app actions do not apply to a flag under the cursor
            if self.service.read_only or not isinstance(getattr(self.screen, "selected", None), App):
                return None
            if getattr(self.screen, "blocked", ""):
                return None  # locked by someone else, or RBAC: the app screen says which
            if action == "fire_drill" and not self.service.fire_drills:
                return None
        return True

    def action_release(self, action_id: str) -> None:
        action = next(a for a in RELEASE_ACTIONS if a.id == action_id)
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            self.confirm_and_run(action, target)

    @work(group="action", exit_on_error=False)
    async def confirm_and_run(self, action: ReleaseAction, target: App) -> None:
        """Preview the change, ask, then perform it; nothing is written if cancelled."""
        percent = None
        if action.asks_percent:
            percent = await self.push_screen_wait(WeightScreen(target))
            if percent is None:
                return
        try:
            preview = await self.service.preview(action.verb, target.name,
                                                 namespace=target.namespace, percent=percent)
        except TurnoutError as err:
            self.notify(str(err), title=err.title, severity="error")
            return
        request = ConfirmRequest(
            title=f"{action.label}: {target.namespace}/{target.name}",
            lines=describe(preview, self.service.context, self.palette),
            confirm_label=action.label, type_to_confirm=target.name if action.typed else "")
        if not await self.push_screen_wait(ConfirmScreen(request)):
            self.notify("Cancelled: nothing was changed.", title=action.label)
            return
        await self._perform(action, target, percent)

    async def _perform(self, action: ReleaseAction, target: App, percent: int | None) -> None:
        try:
            result = await self.service.apply(action.verb, target.name, namespace=target.namespace,
                                              percent=percent)
        except TurnoutError as err:
            self.post_message(ActionFinished(str(err), ok=False, title=err.title))
            return
        self.post_message(ActionFinished(outcome_line(result), ok=outcome_ok(result),
                                         title=action.label))

    @on(ActionFinished)
    def _action_finished(self, message: ActionFinished) -> None:
        self.notify(message.summary, title=message.title,
                    severity="information" if message.ok else "error")
        if isinstance(self.screen, AppScreen):
            self.screen.load_audit()
        self.refresh_apps()

    @work(group="action", exit_on_error=False)
    async def action_fire_drill(self) -> None:
        target: App | None = getattr(self.screen, "selected", None)
        if target is None:
            return
        try:
            color = await self.service.fire_drill(target.name, target.namespace)
        except TurnoutError as err:
            self.notify(str(err), title=err.title, severity="error")
            return
        armed = any(a.guard == "armed" for a in self.apps
                    if (a.name, a.namespace) == (target.name, target.namespace))
        self.notify(f"{target.name}: {color} now failing; "
                    + ("the armed guard will roll it back when it sees it." if armed
                       else "no guard is armed (g arms it)."),
                    title="Fire drill", severity="warning")
        self.refresh_apps()

    @work(group="deploy", exit_on_error=False)
    async def action_deploy(self) -> None:
        """Deploy an image through the release flow: plan, confirm, then run it here."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is None:
            return
        image = await self.push_screen_wait(DeployScreen(target))
        if image is None:
            return
        request = DeployRequest(app=target.name, namespace=target.namespace, image=image)
        try:
            flow = await self.service.plan_deploy(request)
        except TurnoutError as err:
            self.notify(str(err), title=err.title, severity="error")
            return
        lines = (Text.assemble("context    ", safe(self.service.context), "   namespace ",
                               safe(target.namespace)),
                 Text.assemble("image      ", safe(image), f"  into {flow.new}"),
                 *(Text.assemble(f"{i + 1:>2}. ", safe(s.describe())) for i, s in enumerate(flow.stages)))
        if not await self.push_screen_wait(ConfirmScreen(ConfirmRequest(
                title=f"Deploy {target.namespace}/{target.name}", lines=lines, confirm_label="Deploy"))):
            self.notify("Cancelled: nothing was changed.", title="Deploy")
            return
        self.notify(f"{target.name}: deploying {image}; follow it with h", title="Deploy")
        try:
            release = await self.service.deploy(request)
        except TurnoutError as err:
            self.post_message(ActionFinished(str(err), ok=False, title=err.title))
            return
        self.post_message(ActionFinished(release_line(release), ok=release.outcome == "promoted",
                                         title="Deploy"))

    def action_history(self) -> None:
        target: App | None = getattr(self.screen, "selected", None)
        if isinstance(target, App):
            self.push_screen(HistoryScreen(target.name, target.namespace))

    def action_flags(self) -> None:
        if not isinstance(self.screen, FlagsScreen):
            self.push_screen(FlagsScreen())

    @work(group="action", exit_on_error=False)
    async def action_panic(self) -> None:
        """Abort the rollout and kill the app's flags, after the app name is typed."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is None:
            return
        try:
            preview, linked = await self.service.panic_preview(target.name, namespace=target.namespace)
        except TurnoutError as err:
            self.notify(str(err), title=err.title, severity="error")
            return
        request = ConfirmRequest(
            title=f"PANIC: {target.namespace}/{target.name}",
            lines=(*describe(preview, self.service.context, self.palette),
                   Text.assemble("flags off  ", safe(", ".join(linked) or "none"))),
            confirm_label="Panic", type_to_confirm=target.name)
        if not await self.push_screen_wait(ConfirmScreen(request)):
            self.notify("Cancelled: nothing was changed.", title="Panic")
            return
        try:
            outcome, killed = await self.service.panic(target.name, namespace=target.namespace)
        except TurnoutError as err:
            self.post_message(ActionFinished(str(err), ok=False, title=err.title))
            return
        self.post_message(ActionFinished(f"{outcome_line(outcome)}; flags off: "
                                         f"{', '.join(killed) or 'none'}", ok=outcome_ok(outcome),
                                         title="Panic"))

    @work(group="action", exit_on_error=False)
    async def action_slot(self, verb: str) -> None:
        """Scale one color, or set its image: ask, confirm the backend's plan, change it."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            await change_slot(self, target, verb)

    @work(group="action", exit_on_error=False)
    async def action_lock(self, verb: str) -> None:
        """Take or release the app's release lock (never someone else's)."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            await take_lock(self, target, verb)

    @work(group="action", exit_on_error=False)
    async def action_arm_guard(self) -> None:
        """Arm (or re-arm after a rollback) the automatic rollback guard on this app."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is None:
            return
        try:
            await self.service.guard().arm(target.name, target.namespace)
        except TurnoutError as err:
            self.notify(str(err), title=err.title, severity="error")
            return
        self.notify(f"{target.name}: guard armed", title="Guard")
        self.refresh_apps()

    @work(exclusive=True, group="guard", exit_on_error=False)
    async def run_guard(self) -> None:
        """Where the assembly says the guard runs in this process (the demo), run it here, so
        a fire drill is rolled back on its own."""
        while True:
            try:
                names = [app.name for app in await self.service.apps()]
                break
            except TurnoutError:  # the refresh shows the outage; the guard waits it out
                await asyncio.sleep(self.config.guard.interval)
        await self.service.guard().run(names, None, asyncio.Event(), on_result=self._guard_result)

    def _guard_result(self, result: Evaluation) -> None:
        if result.state == "armed" and result.decision in ANNOUNCED:
            self.post_message(ActionFinished(
                f"{result.app}: {result.decision} ({result.watched} failed); report "
                f"{result.incident}", ok=result.decision == "rollback", title="Guard"))

    def action_refresh(self) -> None:
        self.refresh_apps()

    def action_next_theme(self) -> None:
        names = [t.name for t in THEMES]
        self.theme = names[(names.index(self.theme) + 1) % len(names)] \
            if self.theme in names else names[0]

    def action_help(self) -> None:
        bindings = [(active.binding, active.enabled) for active in self.screen.active_bindings.values()]
        self.push_screen(HelpScreen(help_text(self, bindings)))

    def action_help_quit(self) -> None:
        """ctrl+c: say how to quit (Textual's own toast for it is markup)."""
        self.notify("Press q to quit Turnout.", title="Quit?")

    async def run_action(self, action: str | ActionParseResult, default_namespace: DOMNode | None = None,
                         namespaces: Mapping[str, DOMNode] | None = None) -> bool:
        """Run `action`; a key greyed out by `check_action` says why instead of doing nothing."""
        if await super().run_action(action, default_namespace, namespaces):
            return True
        if isinstance(action, str):
            target, name, params = self._parse_action(
                action, self if default_namespace is None else default_namespace, namespaces)
            why_refused = getattr(target, "why_refused", None)
            if callable(why_refused) and not target.check_action(name, params):
                reason = why_refused(name)
                if reason:
                    self.notify(reason, title="Not available", severity="warning")
        return False

    def why_refused(self, action: str) -> str:
        """Why an app action is greyed out on the current screen, for the operator."""
        return refusal(self, self.screen, action)
