"""What the guard remembers about each app's episodes between evaluations: when an error began
and which pages are open. Re-arms and the metrics outage are the guard's policy (`policy.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from turnout.backend.guard.alerts import Page
from turnout.backend.models import App

Key = tuple[str, str]


@dataclass
class Episodes:
    """Per-app episodes of one guard process."""

    errors: dict[Key, datetime] = field(default_factory=dict)
    """Since when each app has been an `error` (its alert was sent then)."""
    opened: dict[tuple[str, str, str], Page] = field(default_factory=dict)
    """Pages sent and not yet resolved, by (namespace, app, what)."""

    def close(self, app: App) -> list[Page]:
        """The app's open pages, forgotten (the app is healthy)."""
        mine = [k for k in self.opened if k[:2] == (app.namespace, app.name)]
        return [self.opened.pop(k) for k in mine]
