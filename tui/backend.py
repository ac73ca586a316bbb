"""The TUI's one typed way to the backend and to its app: the `ReleaseService` the app was
built on, and the `TurnoutApp` itself (its apps, palette and verbs).

Screens and widgets call `service_of(self)` and `app_of(self)` rather than reaching through
`self.app`, so what they talk to is typed and found in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from turnout.backend.service import ReleaseService

if TYPE_CHECKING:  # the app imports the screens that import this module
    from turnout.tui.app import TurnoutApp


class InApp(Protocol):
    """A screen, widget or command provider: anything that knows its app."""

    @property
    def app(self) -> object: ...


def service_of(node: InApp) -> ReleaseService:
    """The release service of the app `node` belongs to."""
    service = getattr(node.app, "service", None)
    if not isinstance(service, ReleaseService):
        raise TypeError(f"{type(node).__name__} is not inside a Turnout app")
    return service


def app_of(node: InApp) -> TurnoutApp:
    """The Turnout app `node` belongs to: every screen and command provider runs in one (a
    widget test's host app gives its widgets what they draw and never reaches here)."""
    return cast("TurnoutApp", node.app)
