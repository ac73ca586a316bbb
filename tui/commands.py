"""Command palette: jump to any app, or run a release action on it."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from turnout.backend.models import App
from turnout.backend.sanitize import inert
from turnout.tui.actions import RELEASE_ACTIONS
from turnout.tui.backend import service_of


class AppsProvider(Provider):
    """`search` opens the search app; `rollback search` asks to roll it back."""

    def _apps(self) -> tuple[App, ...]:
        apps: tuple[App, ...] = self.app.apps  # type: ignore[attr-defined]
        return apps

    def _commands(self) -> list[tuple[str, object, str]]:
        commands: list[tuple[str, object, str]] = []
        read_only = service_of(self).read_only
        for target in self._apps():
            ref = inert(f"{target.namespace}/{target.name}", single_line=True)
            commands.append((f"Open {ref}", partial(self.app.open_app, target),  # type: ignore[attr-defined]
                             f"live {target.traffic.live}"))
            if read_only:
                continue
            for action in RELEASE_ACTIONS:
                commands.append((f"{action.label} {ref}",
                                 partial(self.app.confirm_and_run, action, target),  # type: ignore[attr-defined]
                                 "asks for confirmation"))
        return commands

    async def discover(self) -> Hits:
        for text, callback, help_ in self._commands():
            if text.startswith("Open"):
                yield DiscoveryHit(text, callback, help=help_)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_ in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_)  # type: ignore[arg-type]
