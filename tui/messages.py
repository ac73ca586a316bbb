"""Messages are facts: what happened, posted by workers, handled by the app."""

from __future__ import annotations

from datetime import datetime

from textual.message import Message

from turnout.backend.contexts import ContextApps
from turnout.backend.models import App


class AppsRefreshed(Message):
    """A fresh read of every app; a newer one replaces a queued older one."""

    def __init__(self, apps: tuple[App, ...], at: datetime) -> None:
        super().__init__()
        self.apps = apps
        self.at = at

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AppsRefreshed)


class RefreshFailed(Message):
    """Reading the apps failed; the data on screen is now stale."""

    def __init__(self, error: str, title: str, *, reconnecting: bool = False) -> None:
        super().__init__()
        self.error = error
        self.title = title
        self.reconnecting = reconnecting


class ActionFinished(Message):
    """A confirmed action completed (or failed) in the backend."""

    def __init__(self, summary: str, *, ok: bool, title: str = "") -> None:
        super().__init__()
        self.summary = summary
        self.ok = ok
        self.title = title


class ContextRefreshed(Message):
    """A fresh read of one context of several (its apps, or why it has none); a newer read of
    the same context replaces a queued older one."""

    def __init__(self, found: ContextApps) -> None:
        super().__init__()
        self.found = found

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ContextRefreshed) and message.found.context == self.found.context
