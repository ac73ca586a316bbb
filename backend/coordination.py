"""Waiting for a color and coordinating with other operators (the release lock): verbs of
clusters that keep a lock and a journal. Mixed into `ReleaseService`, which also resumes an
interrupted operation through `_cluster_verb`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from turnout.backend import plans
from turnout.backend.errors import InvalidInput, Unavailable
from turnout.backend.models import App, Slot
from turnout.backend.ports import ClusterPort


class Coordination:
    """Calls the cluster's own lock, unlock and resume where it has them."""

    cluster: ClusterPort

    @property
    def context(self) -> str:
        raise NotImplementedError

    async def wait_ready(self, name: str, color: str, *, namespace: str | None = None,
                         timeout: float = 120.0) -> App:
        """Wait until every desired pod of `color` is ready; `Unavailable` after `timeout`.

        Follows the change stream rather than polling, so it wakes when the pods do.
        """
        checked = plans.check_color(color)
        app = await self.cluster.get_app(name, namespace)
        try:
            async with asyncio.timeout(timeout):
                async with _closing(self.cluster.changes()) as changes:
                    while not _all_ready(app.slot(checked)):
                        async for _, changed in changes:
                            if changed == name:
                                break
                        app = await self.cluster.get_app(name, namespace)
        except TimeoutError:
            slot = app.slot(checked)
            raise Unavailable(f"{name} {checked}: {slot.ready}/{slot.desired} ready after "
                              f"{timeout:.0f} s") from None
        return app

    def _cluster_verb(self, verb: str, what: str) -> Callable[..., Any]:
        method = getattr(self.cluster, verb, None)
        if method is None:
            raise InvalidInput(f"{what} needs a Kubernetes cluster (context {self.context} has none)")
        return method  # type: ignore[no-any-return]

    async def lock(self, name: str, *, namespace: str | None = None, force: bool = False) -> str:
        """Take or renew the app's release lock; returns the holder it was taken from."""
        previous: str = await self._cluster_verb("lock", "the release lock")(
            name, namespace, force=force)
        return previous

    async def unlock(self, name: str, *, namespace: str | None = None, force: bool = False) -> str:
        """Release the app's lock; returns who held it."""
        held: str = await self._cluster_verb("unlock", "the release lock")(
            name, namespace, force=force)
        return held


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
