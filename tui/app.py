"""The Turnout TUI: the app-wide state, live refresh, and confirmed actions."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Mapping
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
from turnout.tui.messages import ActionFinished, AppsRefreshed, ContextRefreshed, RefreshFailed
from turnout.tui.preferences import load_theme, save_theme
from turnout.tui.render import Palette, rich_palette
from turnout.tui.screens.overview import OverviewScreen

if TYPE_CHECKING:
    from turnout.backend.guard.engine import Evaluation

ANNOUNCED = frozenset({"rollback", "no safe target", "would roll back", "rollback failed"})
"""Guard decisions worth a toast; repeats come back as `already alerted` and stay quiet."""
FIRST_READ_WAIT = 0.25
"""Seconds the first screen waits for the first read of the apps before showing without them."""
REFRESH_PACE = 0.25
"""Seconds at least between the starts of two back-to-back refreshes: under a watch's churn
(100 pod changes a second) refreshes would otherwise run end to end and keep the event loop
from painting and answering keys. A refresh after a quiet spell starts at once."""
RECONNECT_MIN = 0.5
RECONNECT_MAX = 10.0
"""Seconds between attempts to re-open the change stream, doubling up to this."""


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
        self._refresh_pending: bool | None = None
        """None: no refresh in flight; False: one is; True: and another was asked for."""
        self._reading: dict[str, bool] = {}
        self._stream: AsyncIterator[tuple[str, str]] | None = None
        """The change stream opened before the first read (see `_first_read`)."""
        self._first_pending: asyncio.Future[tuple[App, ...]] | None = None
        """A first read still running when the overview is first drawn."""
        self._first_landed = asyncio.Event()
        """Set once the first read of the apps has come back, with apps or an error."""
        """Contexts with a read in flight, and whether another was asked for meanwhile."""
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

    def get_default_screen(self) -> Screen[object]:
        """The overview is the bottom of the screen stack: under a pushed overview, Textual's
        blank default screen would be styled and laid out too, part of the first frame."""
        return OverviewScreen()

    async def on_load(self) -> None:
        """Before the terminal is taken and the overview composed: the first read, so the
        overview's first frame shows the apps."""
        await self._first_read()

    async def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._first_read_goes_on()
        self.screen.call_after_refresh(startup.resume)
        if self.live:
            # After the first frame: the change stream and the guard's first evaluation
            # import and measure what the overview does not need to draw.
            self.screen.call_after_refresh(self._go_live)

    def _go_live(self) -> None:
        """Follow the cluster from now on (and guard it, where the assembly says so)."""
        self.run_worker(self._watch_after_first_read(), group="live", exit_on_error=False)
        if self.service.guard_here:
            self.run_guard()
        self.set_interval(self.config.refresh_seconds, self.refresh_apps)

    async def _watch_after_first_read(self) -> None:
        # Changes queue in the stream opened before the first read; refreshes asked for
        # before that read lands would only repeat it.
        await self._first_landed.wait()
        self.watch_changes()

    # --- live data: workers read, messages carry facts, handlers own state ----

    async def _first_read(self) -> None:
        """Give the first read a moment before the first screen, so its first frame shows the
        apps (laid out once) rather than an empty table. A slower read goes on once the app is
        mounted (`_first_read_goes_on`)."""
        if self.live and self.contexts is None:
            # Opened first: over a watch cache its lists serve this read (the apps as soon as
            # all but the pods are listed, the pods then page by page); nothing is listed twice.
            self._stream = self.service.changes()
        read = asyncio.ensure_future(self.service.apps())
        await asyncio.wait({read}, timeout=FIRST_READ_WAIT)
        if read.done() and read.exception() is None:
            self.set_reactive(TurnoutApp.apps, read.result())
            self.set_reactive(TurnoutApp.connection, "● live")
            self._first_landed.set()
            return
        self._first_pending = read

    def _first_read_goes_on(self) -> None:
        """A first read slower than `FIRST_READ_WAIT` goes on in the refresh worker, which
        shows its apps or says why it failed: never cancelled and made again, since at 10 000
        pods one read takes seconds."""
        read, self._first_pending = self._first_pending, None
        if read is None:
            return
        if self.contexts is not None:  # each context is read by a worker of its own
            read.cancel()
            self._first_landed.set()
            self.refresh_apps()
            return
        self._refresh_pending = False
        self.run_worker(self._refresh(read), group="refresh", exit_on_error=False)

    def refresh_apps(self) -> None:
        """Read every app; the result arrives as `AppsRefreshed` (with several contexts, one
        `ContextRefreshed` per context, each from a worker of its own).

        A refresh asked for while one is in flight runs once that one ends (and at least
        `REFRESH_PACE` after it began), never by cancelling it: under a watch's churn (100 pod
        changes a second) a read cancelled at each change would never finish, and the screen
        would never update.
        """
        if self.contexts is not None:
            for name in self.contexts.names:
                self.refresh_context(name)
            return
        if self._refresh_pending is not None:
            self._refresh_pending = True
            return
        self._refresh_pending = False
        self.run_worker(self._refresh(), group="refresh", exit_on_error=False)

    async def _refresh(self, first: Awaitable[tuple[App, ...]] | None = None) -> None:
        try:
            while True:
                began = asyncio.get_running_loop().time()
                try:
                    reading, first = first or self.service.apps(), None
                    apps = await reading
                except TurnoutError as err:
                    self.post_message(RefreshFailed(str(err), err.title))
                else:
                    self.post_message(AppsRefreshed(apps, self.service.clock()))
                finally:
                    self._first_landed.set()
                if not self._refresh_pending:
                    return
                # Changes arriving during the pause join this next refresh.
                await asyncio.sleep(max(0.0, began + REFRESH_PACE - asyncio.get_running_loop().time()))
                self._refresh_pending = False
        finally:
            self._refresh_pending = None

    def refresh_context(self, name: str) -> None:
        """Read one context in a worker of its own: a context that does not answer holds up
        nothing but its own reads. A read asked for while one is in flight is done once that
        one ends (never by cancelling it: a slow context would then never finish a read)."""
        if name in self._reading:
            self._reading[name] = True
            return
        self._reading[name] = False
        self.run_worker(self._read_context(name), group=f"context:{name}", exit_on_error=False)

    async def _read_context(self, name: str) -> None:
        assert self.contexts is not None
        try:
            while True:
                began = asyncio.get_running_loop().time()
                self.post_message(ContextRefreshed(await self.contexts.read(name)))
                if not self._reading.get(name):
                    return
                await asyncio.sleep(max(0.0, began + REFRESH_PACE - asyncio.get_running_loop().time()))
                self._reading[name] = False
        finally:
            self._reading.pop(name, None)

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def watch_changes(self) -> None:
        """Follow the cluster's change stream; each change asks for a refresh.

        A broken stream is retried with backoff for as long as the app runs: an API
        server outage must never end the operator's session.
        """
        if self.contexts is not None:  # each context's stream reconnects on its own
            async for change in self.contexts.changes():
                self.refresh_context(change.context)
        backoff = RECONNECT_MIN
        while True:
            try:
                stream, self._stream = self._stream or self.service.changes(), None
                async for _ in stream:
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
