"""The TUI's one typed way to the backend: the `ReleaseService` the app was built on.

Screens and widgets call `service_of(self)` rather than reaching through `self.app`,
so the backend they talk to is typed and found in one place."""

from __future__ import annotations

from typing import Protocol

from turnout.backend.service import ReleaseService


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
