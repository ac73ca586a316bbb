"""Waiting until a color's pods are ready, following the cluster's change stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from turnout.backend import plans
from turnout.backend.errors import Unavailable
from turnout.backend.models import App, Slot
from turnout.backend.ports import ClusterPort


async def wait_ready(cluster: ClusterPort, name: str, color: str, *, namespace: str | None = None,
                     timeout: float = 120.0) -> App:
    """Wait until every desired pod of `color` is ready; `Unavailable` after `timeout`.

    Follows the change stream rather than polling, so it wakes when the pods do.
    """
    checked = plans.check_color(color)
    app = await cluster.get_app(name, namespace)
    try:
        async with asyncio.timeout(timeout):
            async with _closing(cluster.changes()) as changes:
                while not _all_ready(app.slot(checked)):
                    async for _, changed in changes:
                        if changed == name:
                            break
                    app = await cluster.get_app(name, namespace)
    except TimeoutError:
        slot = app.slot(checked)
        raise Unavailable(f"{name} {checked}: {slot.ready}/{slot.desired} ready after "
                          f"{timeout:.0f} s") from None
    return app


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[tuple[str, str]]) -> AsyncIterator[AsyncIterator[tuple[str, str]]]:
    """Close an async generator (its watches) however the caller leaves it."""
    try:
        yield stream
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


def _all_ready(slot: Slot) -> bool:
    return slot.desired > 0 and slot.ready >= slot.desired
