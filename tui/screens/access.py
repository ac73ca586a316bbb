"""Screens whose actions grey out, with the reason, when this operator may not change an app."""

from __future__ import annotations

from textual import work
from textual.screen import Screen

from turnout.backend.models import App
from turnout.tui.backend import service_of


class GuardedScreen(Screen[None]):
    """Asks the service, in a worker, whether the shown app may be changed now."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked = ""
        """Why this operator cannot change the app (read-only, a lock, RBAC); greys actions out."""

    @property
    def blocked_note(self) -> str:
        """The reason to print beside the app: read-only mode has its own banner."""
        return "" if service_of(self).read_only else self.blocked

    @work(exclusive=True, group="access", exit_on_error=False, description="write blocker")
    async def load_blocker(self, app: App) -> None:
        """Ask (RBAC answers are cached by the backend), then grey out and say why."""
        blocked = await service_of(self).write_blocker(app)
        if blocked != self.blocked:
            self.blocked = blocked
            self.app.refresh_bindings()
        self.show_blocker(app)

    def show_blocker(self, app: App) -> None:
        """Show `blocked_note` for `app`; each screen puts it where its actions are."""
        raise NotImplementedError
