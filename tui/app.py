"""The Turnout TUI: the app-wide state, live refresh, and confirmed actions."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App as TextualApp
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.filter import Monochrome, NoColor
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import Theme

from turnout.backend import startup
from turnout.backend.config import Config
from turnout.backend.contexts import ContextApps, Contexts
from turnout.backend.errors import TurnoutError
from turnout.backend.models import App
from turnout.backend.sanitize import inert
from turnout.backend.service import ReleaseService
from turnout.themes import THEMES, domain_defaults
from turnout.tui.actions import RELEASE_ACTIONS, ReleaseAction
from turnout.tui.answering_app import AnsweringApp
from turnout.tui.commands import AppsProvider
from turnout.tui.keys import APP_ACTIONS, help_text, refusal
from turnout.tui.live import LiveReads
from turnout.tui.messages import ActionFinished, AppsRefreshed, ContextRefreshed, RefreshFailed
from turnout.tui.preferences import load_theme, save_theme
from turnout.tui.render import Palette, rich_palette
from turnout.tui.screens.overview import OverviewScreen

if TYPE_CHECKING:
    from turnout.backend.guard.engine import Evaluation

ANNOUNCED = frozenset({"rollback", "no safe target", "would roll back", "rollback failed"})
"""Guard decisions worth a toast; repeats come back as `already alerted` and stay quiet."""


def colourless(environ: Mapping[str, str]) -> bool:
    """NO_COLOR (any value, https://no-color.org) or a dumb terminal: no colour escapes at all;
    icons, words and bold still tell every state apart."""
    return "NO_COLOR" in environ or environ.get("TERM", "") in ("dumb", "unknown")


def _showing_flags(screen: object) -> bool:
    """Whether `screen` is the flags screen, whose module is loaded only once it is opened
    (the first frame does without it)."""
    flags = sys.modules.get("turnout.tui.screens.flags")
    return flags is not None and isinstance(screen, flags.FlagsScreen)


class TurnoutApp(AnsweringApp):
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
        Binding("I", "incident", "Incident replay", show=False, id="incident"),
        Binding("D", "deploy", "Deploy", id="deploy"),
        Binding("exclamation_mark", "panic", "Panic", id="panic"),
        Binding("S", "slot('scale')", "Scale", show=False, id="scale"),
        Binding("i", "slot('set-image')", "Set image", show=False, id="set-image"),
        Binding("L", "lock('lock')", "Lock", show=False, id="lock"),
        Binding("U", "lock('unlock')", "Unlock", show=False, id="unlock"),
    ]

    apps: reactive[tuple[App, ...]] = reactive((), always_update=True, repaint=False)
    """Every app of the context, from the latest refresh. Screens watch it and repaint what
    changed; a repaint of the whole app here would redraw every cell of the screen."""
    connection: reactive[str] = reactive("connecting")
    """Connection state shown in every screen's status bar."""

    context_states: reactive[tuple[ContextApps, ...]] = reactive(())
    """With several contexts: each one's latest read (live, unavailable or error, and why)."""

    def __init__(self, service: ReleaseService, config: Config, *, live: bool = True,
                 contexts: Contexts | None = None) -> None:
        self._themes_ready = False
        """Until Turnout's themes are registered: see `get_css_variables`."""
        super().__init__()
        self.contexts = contexts
        """Several contexts side by side in the overview; app screens and verbs act in
        `service`'s context (the first one)."""
        self.reads = LiveReads(self)
        """The reads of the cluster whose results this app's handlers show."""
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
        self._themes_ready = True
        self._palette: tuple[str, Palette] = ("", {})
        self._start_with_theme(self._initial_theme(config))
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

    def _start_with_theme(self, name: str) -> None:
        """Start in theme `name`. Assigning `theme` before the first frame would parse the whole
        stylesheet twice (its watcher re-parses it for the new variables, tens of milliseconds
        of the first frame), so a theme as dark as Textual's default, and as ANSI-less, is set as
        Textual's `set_reactive` documents, before any parse, with the variables it defines."""
        chosen, default = self.get_theme(name), self.current_theme
        if chosen is None or (chosen.dark, chosen.ansi) != (default.dark, default.ansi):
            self.theme = name  # the ANSI colour filter differs too: the full switch
        else:
            self.set_reactive(TextualApp.theme, name)
        self.stylesheet.set_variables(self.get_css_variables())

    def get_css_variables(self) -> dict[str, str]:
        """The theme's CSS variables. Textual's own `__init__` asks for them, for its default
        theme, before Turnout's themes are registered; `_start_with_theme` replaces them at
        once, so none are generated then (a few milliseconds of the first frame)."""
        return super().get_css_variables() if self._themes_ready else {}

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The domain variables (`$slot-blue`, `$health-bad`…) for themes that lack them, so
        any of Textual's own themes can be chosen from the palette."""
        return domain_defaults(self.current_theme)

    def _theme_changed(self, theme: Theme) -> None:
        save_theme(theme.name)

    def open_app(self, target: App) -> None:
        """Show one app's detail screen."""
        from turnout.tui.screens.app_detail import AppScreen

        self.push_screen(AppScreen(target.name, target.namespace))

    def get_default_screen(self) -> Screen[None]:
        """The overview is the bottom of the screen stack: under a pushed overview, Textual's
        blank default screen would be styled and laid out too, part of the first frame."""
        return OverviewScreen()

    async def on_load(self) -> None:
        """Before the terminal is taken and the overview composed: the first read, so the
        overview's first frame shows the apps."""
        apps = await self.reads.first()
        if apps is not None:
            self.set_reactive(TurnoutApp.apps, apps)
            self.set_reactive(TurnoutApp.connection, "● live")

    async def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.reads.first_goes_on()
        self.screen.call_after_refresh(startup.resume)
        if self.live:
            # After the first frame: the change stream and the guard's first evaluation
            # import and measure what the overview does not need to draw.
            self.screen.call_after_refresh(self._go_live)

    def _go_live(self) -> None:
        """Follow the cluster from now on (and guard it, where the assembly says so)."""
        self.reads.follow()
        if self.service.guard_here:
            self.run_guard()
        self.set_interval(self.config.refresh_seconds, self.refresh_apps)

    def refresh_apps(self) -> None:
        """Read every app again (see `LiveReads.refresh`)."""
        self.reads.refresh()

    # --- live data: workers read (tui/live.py), messages carry facts, handlers own state

    @on(AppsRefreshed)
    def _apps_refreshed(self, message: AppsRefreshed) -> None:
        self.apps = message.apps
        self.connection = "● live"

    @on(ContextRefreshed)
    def _context_refreshed(self, message: ContextRefreshed) -> None:
        assert self.contexts is not None
        latest = {c.context: c for c in self.context_states} | {message.found.context: message.found}
        self.context_states = tuple(latest[n] for n in self.contexts.names if n in latest)
        self.apps = tuple(a for c in self.context_states for a in c.apps)
        down = [c.context for c in self.context_states if c.state != "live"]
        shown = ", ".join(inert(d, single_line=True) for d in down)
        self.connection = f"● live; unavailable: {shown}" if down else "● live"

    @on(RefreshFailed)
    def _refresh_failed(self, message: RefreshFailed) -> None:
        if self.connection.startswith("● live") or self.connection == "connecting":
            self._stale_since = datetime.now()
            self.notify(message.error, title=message.title, severity="warning")
        state = "reconnecting, stale since" if message.reconnecting else "stale since"
        self.connection = f"{state} {self._stale_since:%H:%M:%S} ({message.title})"

    # --- actions ---------------------------------------------------------------

    def why_refused(self, action: str) -> str:
        """Why an app action is greyed out on the current screen, for the operator (the
        toast `AnsweringApp.run_action` shows)."""
        return refusal(self.service, self.screen, action, several=self.contexts is not None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what cannot be done here, rather than failing after a confirmation."""
        if action in ("history", "incident"):
            return isinstance(self._under_cursor(), App) or None
        if action in APP_ACTIONS:
            if _showing_flags(self.screen):
                return False  # app actions do not apply to a flag under the cursor
            target = self._under_cursor()
            if self.service.read_only or not isinstance(target, App):
                return None
            if self.contexts is not None and target.context != self.service.context:
                return None  # verbs act in one context: this session's (keys.refusal says so)
            if getattr(self.screen, "blocked", ""):
                return None  # locked by someone else, or RBAC: the app screen says which
            if action == "fire_drill" and not self.service.fire_drills:
                return None
        return True

    def _under_cursor(self) -> object:
        """What the current screen has under its cursor; None while it is still composing (a
        footer of another screen may ask then)."""
        try:
            return getattr(self.screen, "selected", None)
        except NoMatches:
            return None

    def action_release(self, action_id: str) -> None:
        action = next(a for a in RELEASE_ACTIONS if a.id == action_id)
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            self.confirm_and_run(action, target)

    @work(group="action", exit_on_error=False, description="confirm and run")
    async def confirm_and_run(self, action: ReleaseAction, target: App) -> None:
        """Preview the change, ask, then perform it; nothing is written if cancelled."""
        from turnout.tui import app_verbs  # with the confirmations: not for the first frame

        await app_verbs.run_release(self, action, target)

    @on(ActionFinished)
    def _action_finished(self, message: ActionFinished) -> None:
        from turnout.tui.screens.app_detail import AppScreen

        self.notify(message.summary, title=message.title,
                    severity="information" if message.ok else "error")
        if isinstance(self.screen, AppScreen):
            self.screen.load_audit()
        self.refresh_apps()

    @work(group="action", exit_on_error=False)
    async def action_fire_drill(self) -> None:
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            from turnout.tui import app_verbs

            await app_verbs.fire_drill(self, target)

    @work(group="deploy", exit_on_error=False)
    async def action_deploy(self) -> None:
        """Deploy an image through the release flow: plan, confirm, then run it here."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            from turnout.tui import app_verbs

            await app_verbs.deploy(self, target)

    def action_history(self) -> None:
        target: App | None = getattr(self.screen, "selected", None)
        if isinstance(target, App):
            from turnout.tui.screens.history import HistoryScreen

            self.push_screen(HistoryScreen(target.name, target.namespace))

    @work(group="incident", exclusive=True, exit_on_error=False)
    async def action_incident(self) -> None:
        """Replay the app's newest incident recorded by the guard."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is None:
            return
        try:
            found = await self.service.incident_records(target.namespace, target.name)
        except TurnoutError as err:
            self.notify(str(err), title=err.title, severity="error")
            return
        if not found or not found[-1].recording.frames:
            self.notify(f"No incident recording for {target.namespace}/{target.name}.",
                        title="Incident replay")
            return
        from turnout.tui.screens.incident import IncidentScreen

        self.push_screen(IncidentScreen(found[-1]))

    def action_flags(self) -> None:
        from turnout.tui.screens.flags import FlagsScreen

        if not isinstance(self.screen, FlagsScreen):
            self.push_screen(FlagsScreen())

    @work(group="action", exit_on_error=False)
    async def action_panic(self) -> None:
        """Abort the rollout and kill the app's flags, after the app name is typed."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            from turnout.tui import app_verbs

            await app_verbs.panic(self, target)

    @work(group="action", exit_on_error=False)
    async def action_slot(self, verb: str) -> None:
        """Scale one color, or set its image: ask, confirm the backend's plan, change it."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            from turnout.tui import app_verbs

            await app_verbs.change_slot(self, target, verb)

    @work(group="action", exit_on_error=False)
    async def action_lock(self, verb: str) -> None:
        """Take or release the app's release lock (never someone else's)."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            from turnout.tui import app_verbs

            await app_verbs.take_lock(self, target, verb)

    @work(group="action", exit_on_error=False)
    async def action_arm_guard(self) -> None:
        """Arm (or re-arm after a rollback) the automatic rollback guard on this app."""
        target: App | None = getattr(self.screen, "selected", None)
        if target is not None:
            from turnout.tui import app_verbs

            await app_verbs.arm_guard(self, target)

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
        from turnout.tui.screens.help import HelpScreen

        bindings = [(active.binding, active.enabled) for active in self.screen.active_bindings.values()]
        self.push_screen(HelpScreen(help_text(self, bindings)))
