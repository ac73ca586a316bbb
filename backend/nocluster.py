"""`NoCluster`: the cluster port of a session with no cluster configured (the flag commands
on a machine without a kubeconfig). It has no apps; asking for one says why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NoReturn

from turnout.backend.errors import ConfigError
from turnout.backend.models import App, Color, Slot, Traffic


class NoCluster:
    """A `ClusterPort` with nothing in it."""

    context = ""

    async def list_apps(self, namespace: str | None) -> tuple[App, ...]:
        return ()

    async def get_app(self, name: str, namespace: str | None) -> App:
        _refuse(name)

    async def changes(self) -> AsyncIterator[tuple[str, str]]:
        return
        yield  # an async generator that ends at once

    async def write_traffic(self, app: App, target: Traffic, *, dry_run: bool) -> Traffic:
        _refuse(app.name)

    async def scale(self, app: App, color: Color, replicas: int, *, dry_run: bool) -> Slot:
        _refuse(app.name)

    async def set_image(self, app: App, color: Color, image: str, *, dry_run: bool) -> Slot:
        _refuse(app.name)

    async def close(self) -> None:
        return None


def _refuse(name: str) -> NoReturn:
    raise ConfigError(f"no cluster configured, so no app {name!r}: pass --kubeconfig or "
                      "--context, or try the embedded demo: turnout demo")
