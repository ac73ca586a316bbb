"""Command palette: jump to any app, or run a release action on it."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from turnout.backend.models import App
from turnout.backend.sanitize import inert
from turnout.tui.actions import RELEASE_ACTIONS
from turnout.tui.backend import app_of, service_of


class AppsProvider(Provider):
    """`search` opens the search app; `rollback search` asks to roll it back."""

    def _apps(self) -> tuple[App, ...]:
        return app_of(self).apps

    def _commands(self) -> list[tuple[str, object, str]]:
        commands: list[tuple[str, object, str]] = []
        read_only = service_of(self).read_only
        app = app_of(self)
        for target in self._apps():
            ref = inert(f"{target.namespace}/{target.name}", single_line=True)
            commands.append((f"Open {ref}", partial(app.open_app, target),
                             f"live {target.traffic.live}"))
            if read_only:
                continue
            for action in RELEASE_ACTIONS:
                commands.append((f"{action.label} {ref}",
                                 partial(app.confirm_and_run, action, target),
                                 "asks for confirmation"))
        return commands

    def _highlight(self, matcher: Matcher, text: str) -> Content:
        """The matched characters highlighted on plain `Content`: Textual's own highlight
        parses its candidate as markup, and a namespace or app name is outside text."""
        content = Content(text)
        _, offsets = matcher.fuzzy_search.match(matcher.query, text)
        for offset in offsets:
            if not text[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
        return content

    async def discover(self) -> Hits:
        for text, callback, help_ in self._commands():
            if text.startswith("Open"):
                yield DiscoveryHit(Content(text), callback, text=text,  # type: ignore[arg-type]
                                   help=Content(help_))  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_ in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, self._highlight(matcher, text), callback,  # type: ignore[arg-type]
                          text=text, help=Content(help_))  # type: ignore[arg-type]
