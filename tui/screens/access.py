"""Screens whose actions grey out, with the reason, when this operator may not change an app."""

from __future__ import annotations

from textual import on, work
from textual.message import Message
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

    class BlockerRead(Message, bubble=False):
        """Why this operator cannot change `app` now ("" when nothing stands in the way)."""

        def __init__(self, app: App, blocked: str) -> None:
            super().__init__()
            self.shown_app = app
            self.blocked = blocked

    @work(exclusive=True, group="access", exit_on_error=False, description="write blocker")
    async def load_blocker(self, app: App) -> None:
        """Ask (RBAC answers are cached by the backend) and post the answer."""
        self.post_message(self.BlockerRead(app, await service_of(self).write_blocker(app)))

    @on(BlockerRead)
    def _blocker_read(self, message: BlockerRead) -> None:
        """Grey out the actions and say why."""
        if message.blocked != self.blocked:
            self.blocked = message.blocked
            self.app.refresh_bindings()
        self.show_blocker(message.shown_app)

    def show_blocker(self, app: App) -> None:
        """Show `blocked_note` for `app`; each screen puts it where its actions are."""
        raise NotImplementedError
