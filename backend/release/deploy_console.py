"""`DeployConsole`: the release flow's verbs, as the CLI and the TUI call them.

`deploy` checks, journals and drives a new flow; `resume` continues one whose
driver died; `abort` and `promote` ask the running driver (or, when it is
gone, act themselves); `flow` and `history` read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import msgspec

from turnout.backend.errors import Conflict, InvalidInput, ReadOnly, Unavailable
from turnout.backend.models import App, other
from turnout.backend.release.analysis import Trigger
from turnout.backend.release.durations import format_duration
from turnout.backend.release.flow import Driver, log_only
from turnout.backend.release.journal import driver_alive, driver_id
from turnout.backend.release.model import DEFAULT_STEPS, DeployRequest, Flow, Release, plan_stages
from turnout.backend.release.port import ReleasePort
from turnout.backend.release.stages import Say, Sleep
from turnout.backend.unfinished import refuse_unfinished

if TYPE_CHECKING:
    from turnout.backend.service import ReleaseService

def version_of(image: str) -> str:
    """The tag of an image reference (the digest's start for digests), else the whole."""
    name, _, digest = image.partition("@")
    if digest:
        return digest.partition(":")[2][:12] or digest
    last = name.rpartition("/")[2]
    return last.rpartition(":")[2] if ":" in last else name


class DeployConsole:
    """Deploy, resume, abort, promote and read the release flows of one service."""

    def __init__(self, service: ReleaseService, port: ReleasePort | None = None, *,
                 sleep: Sleep | None = None, say: Say = log_only,
                 triggers: Sequence[Trigger] = ()) -> None:
        self.service = service
        self.port = port or service.release_records()
        self.sleep = sleep or service.pace
        self.say = say
        self.triggers = tuple(triggers)
        self.me = driver_id()

    def driver(self) -> Driver:
        """A driver for one flow, sharing this console's port, pace and output."""
        return Driver(self.service, self.port, sleep=self.sleep, say=self.say,
                      triggers=self.triggers, me=self.me)

    async def flow(self, name: str, namespace: str | None = None) -> Flow | None:
        """The app's flow in flight, if any."""
        app = await self.service.state(name, namespace)
        return await self.port.load_flow(app.namespace, app.name)

    async def history(self, namespace: str | None, name: str | None = None) -> tuple[Release, ...]:
        """Recorded releases, oldest first."""
        if name is not None:
            namespace = (await self.service.state(name, namespace)).namespace
        return await self.port.history(namespace, name)

    # --- deploy ----------------------------------------------------------------

    async def plan(self, request: DeployRequest) -> Flow:
        """The flow `deploy` would run, after every check it makes; nothing is written."""
        _, flow = await self._prepared(request, writing=False)
        return flow

    async def deploy(self, request: DeployRequest) -> Release:
        """Run a new flow from the first stage to its end."""
        app, flow = await self._prepared(request, writing=True)
        locked = await self.port.acquire(app)
        try:
            flow = await self.port.create_flow(msgspec.structs.replace(flow, locked=locked))
        except BaseException:
            if locked:
                await self.port.unlock(app)
            raise
        return await self.driver().run(flow)

    async def _prepared(self, request: DeployRequest, *, writing: bool) -> tuple[App, Flow]:
        app = await self.service.app(request.app, request.namespace)
        if writing and self.service.read_only:
            raise ReadOnly(f"read-only mode: refused deploy of {request.image} to {app.name}")
        await self._check(app, request)
        await self.port.preflight(app, canary=request.strategy == "canary")
        flow = await self._new_flow(app, request)
        return app, msgspec.structs.replace(flow, scale_down=await self._scale_down(flow))

    async def _scale_down(self, flow: Flow) -> str:
        """The scale-down's own confirmation line when an HPA has a say in it."""
        p = await self.service.plan_scale(flow.app, flow.old, flow.scale_down_to,
                                          namespace=flow.namespace)
        return p.line(flow.context) if p.hpa or p.note else ""

    async def _check(self, app: App, request: DeployRequest) -> None:
        if not request.image or any(ch.isspace() for ch in request.image):
            raise InvalidInput(f"image {request.image!r}: expected a reference like registry/app:tag")
        running = await self.port.load_flow(app.namespace, app.name)
        if running is not None:
            raise InvalidInput(f"a deploy of {app.name} ({running.version}) is in progress: "
                               f"turnout resume {app.name}, or turnout abort {app.name}")
        refuse_unfinished(app, "deploy to")
        if app.traffic.canary_weight:
            raise InvalidInput(f"{app.name} is mid-canary ({app.traffic.canary_weight} % on "
                               f"{app.traffic.canary}): promote or abort it first")
        if app.slot(app.traffic.live).image == request.image:
            raise InvalidInput(f"{request.image} is already live on {app.name}")

    async def _new_flow(self, app: App, request: DeployRequest) -> Flow:
        steps = request.steps or app.traffic.plan or DEFAULT_STEPS
        stages = plan_stages(request.strategy, steps, pause=request.pause, manual=request.manual)
        old, now = app.traffic.live, self.service.clock()
        new = other(old)
        by = await self.service.who()
        return Flow(
            id=uuid.uuid4().hex[:12], app=app.name, namespace=app.namespace, context=app.context,
            image=request.image, version=version_of(request.image), strategy=request.strategy,
            steps=steps if request.strategy == "canary" else (100,), pause=request.pause,
            manual=request.manual, analysis=request.analysis,
            monitor=request.analysis if request.monitor is None else request.monitor,
            deadline=request.deadline, interval=request.interval,
            scale_down_to=request.scale_down_to, old=old, new=new,
            old_image=app.slot(old).image, old_version=app.slot(old).version,
            old_replicas=max(app.slot(old).desired, 1), new_prev_image=app.slot(new).image,
            new_prev_replicas=app.slot(new).desired, by=by,
            started_at=now, stages=stages, stage_started=now,
            reason=request.reason, commit_time=request.commit_time, driver=self.me, heartbeat=now)

    # --- steering a flow in flight ---------------------------------------------

    async def resume(self, name: str, namespace: str | None = None) -> Release | None:
        """Continue the app's flow after its driver died; None when there is no flow."""
        app = await self.service.state(name, namespace)
        flow = await self.port.load_flow(app.namespace, app.name)
        if flow is None:
            return None
        if driver_alive(flow, self.service.clock()):
            seen = format_duration((self.service.clock() - flow.heartbeat).total_seconds())
            raise InvalidInput(f"the deploy of {name} is running ({flow.driver}, seen {seen} ago): "
                               f"let it finish, or turnout abort {name}")
        await self.port.converge(app)
        if flow.locked:
            await self.port.acquire(await self.service.state(name, app.namespace))
        self.say(flow, f"resuming {flow.version} at {flow.stage.describe() if flow.stage else 'the end'}")
        return await self.driver().run(flow)

    async def abort(self, name: str, namespace: str | None = None, *,
                    wait: float = 120.0) -> Release | None:
        """Stop the app's flow and restore the old color; None when there is no flow."""
        app = await self.service.state(name, namespace)
        flow = await self.port.load_flow(app.namespace, app.name)
        if flow is None:
            return None
        if flow.status != "restoring" and (flow.stage is None or flow.stage.kind == "scale-down"):
            raise InvalidInput(f"{name} {flow.version} is already promoted: turnout rollback {name}")
        by = await self.service.who()
        asked = await self._ask(flow, lambda f: msgspec.structs.replace(
            f, abort_requested=True, abort_by=f.abort_by or by))
        if not driver_alive(asked, self.service.clock()):
            await self.port.converge(app)
            return await self.driver().run(asked)
        return await self._outcome(asked, wait)

    async def promote(self, name: str, namespace: str | None = None) -> Flow | None:
        """End the flow's manual pause (or inconclusive hold); None when there is no flow."""
        app = await self.service.state(name, namespace)
        flow = await self.port.load_flow(app.namespace, app.name)
        if flow is None:
            return None
        if flow.status != "paused":
            doing = flow.stage.describe() if flow.stage else flow.status
            raise InvalidInput(f"the deploy of {name} is not paused (now: {doing}): nothing to promote")
        return await self._ask(flow, lambda f: msgspec.structs.replace(f, approved=max(f.approved, f.at)))

    async def _ask(self, flow: Flow, change: Callable[[Flow], Flow]) -> Flow:
        """Record a request on the flow, re-reading when the driver saved in between."""
        for _ in range(10):
            try:
                return await self.port.save_flow(change(flow))
            except Conflict:
                fresh = await self.port.load_flow(flow.namespace, flow.app)
                if fresh is None:
                    raise InvalidInput(f"the deploy of {flow.app} ended meanwhile") from None
                flow = fresh
        raise Conflict(f"the deploy record of {flow.app} kept changing; try again")

    async def _outcome(self, flow: Flow, wait: float) -> Release | None:
        """Wait for the running driver to finish the flow; its history record."""
        waited = 0.0
        while await self.port.load_flow(flow.namespace, flow.app) is not None:
            if waited >= wait:
                raise Unavailable(f"the deploy of {flow.app} ({flow.driver}) did not finish within "
                                  f"{format_duration(wait)} of the request; it is recorded")
            await self.sleep(flow.interval)
            waited += flow.interval
        found = [r for r in await self.port.history(flow.namespace, flow.app) if r.id == flow.id]
        return found[-1] if found else None
