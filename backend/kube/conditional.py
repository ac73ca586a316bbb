"""Writes conditional on what the operator saw: the app re-read from the server and checked
against the record the operator acted on (and its lock), then the writes sent in order, each a
conditional patch; a 409 or, for a guarded change, any watched object moving stops them, and the
operator gets a `Conflict` that says what changed and how many writes were made."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from turnout.backend.config import Conventions
from turnout.backend.errors import Conflict, NotFound, TurnoutError
from turnout.backend.kube.diff import differences, traffic_differences
from turnout.backend.kube.discover import Objects
from turnout.backend.kube.effective import RoutingRead, read_routing
from turnout.backend.kube.guard_records import MERGE
from turnout.backend.kube.guarded import Guard, says_diff, stopped
from turnout.backend.kube.http import KubeHttp
from turnout.backend.kube.lock import check_unlocked, holder_of
from turnout.backend.kube.pause import test_pause
from turnout.backend.kube.resources import list_objects
from turnout.backend.kube.routing import Write, routing_objects
from turnout.backend.models import App


class ConditionalWrites:
    """The conditional writes of one cluster context (`KubeCluster`'s and its autoscaling's)."""

    def __init__(self, http: KubeHttp, conv: Callable[[str], Conventions],
                 discover: Callable[[Objects], tuple[App, ...]],
                 get_app: Callable[[str, str], Awaitable[App]],
                 clock: Callable[[], datetime]) -> None:
        self.http = http
        self.conv = conv
        self._discover = discover
        self._get_app = get_app
        self.clock = clock

    async def fresh(self, app: App) -> tuple[App, Objects]:
        """Re-read the app from the server and check it is still what the operator saw."""
        selector = f"{self.conv(app.namespace).app_label}={app.name}"
        objects = await list_objects(self.http, app.namespace, selector)
        fresh = next((a for a in self._discover(objects) if a.name == app.name), None)
        if fresh is None:
            raise Conflict(f"{app.namespace}/{app.name} changed by someone else: it is gone")
        check_unlocked(await holder_of(self.http, app.namespace, app.name, self.clock()),
                       app.name)
        changed = differences(app, fresh)
        if changed:
            raise Conflict(f"{app.namespace}/{app.name} changed by someone else since it was "
                           f"read: {'; '.join(changed)}. Nothing was written; re-read and retry")
        return fresh, objects

    async def apply(self, app: App, writes: list[Write], dry_run: bool,
                     content_type: str = MERGE,
                     on_step: Callable[[int], Awaitable[None]] | None = None,
                     guard: Guard | None = None) -> list[bytes]:
        """Send the writes in order; with a `guard`, stop at the first moved object."""
        bodies = []
        await test_pause("before-write")
        for done, write in enumerate(writes):
            if done:
                await test_pause("between-writes")
            await test_pause(f"write-{done + 1}")
            if guard is not None:
                await test_pause(f"traffic-write-{done + 1}")
            if guard is not None:
                moved = await guard.watched.moved()
                if moved:
                    raise await self._stopped(app, guard, done, len(writes), moved)
            try:
                body = await self.http.write("PATCH", write.path, write.patch,
                                             content_type=content_type, dry_run=dry_run)
            except Conflict as err:
                if guard is not None:
                    raise await self._stopped(app, guard, done, len(writes),
                                              [f"{write.kind}/{write.name} was changed"]) from err
                raise await self._conflict(app, write, done, len(writes)) from err
            bodies.append(body)
            if guard is not None:
                guard.watched.wrote(write.kind, write.name, body)
            if on_step is not None:
                await on_step(done + 1)
        return bodies

    async def _stopped(self, app: App, guard: Guard, done: int, total: int,
                       moved: list[str]) -> Conflict:
        """The Conflict of a guarded change that stops: what moved, what the objects say now."""
        try:
            now = await self.routing_read(app)
            diff = traffic_differences(app.traffic, now.traffic) + says_diff(
                guard.says, now.says) if now else [
                f"service/{app.name} selects no color any more"]
        except TurnoutError as err:
            diff = [f"the objects could not be read again: {err}"]
        return stopped(app.name, app.namespace, done, total, moved, diff, guard.journal_id)

    async def routing_read(self, app: App) -> RoutingRead | None:
        objects = await list_objects(self.http, app.namespace,
                                     f"{self.conv(app.namespace).app_label}={app.name}")
        return read_routing(app.name, routing_objects(objects), self.conv(app.namespace))

    async def _conflict(self, app: App, write: Write, done: int, total: int) -> Conflict:
        try:
            changed = differences(app, await self._get_app(app.name, app.namespace))
        except NotFound:
            changed = ["the app is gone"]
        what = "; ".join(changed) or f"{write.kind}/{write.name} was updated"
        partial = f" {done} of {total} writes had been applied." if done else ""
        return Conflict(f"{app.namespace}/{app.name} changed by someone else while writing "
                        f"{write.kind}/{write.name}: {what}.{partial} Re-read and retry")
