"""The traffic verbs of one service: the one dispatch of weight, step, promote, abort,
rollback and switch (`apply`), what each would change (`preview`), and the audited, conditional
write of the traffic they plan. A deploy in flight is steered through the release flow instead
(`ReleaseDesk`); the named verbs are `ReleaseService`'s."""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnout.backend import verbs
from turnout.backend.errors import InvalidInput
from turnout.backend.models import ActionResult, App
from turnout.backend.unfinished import refuse_unfinished

if TYPE_CHECKING:
    from turnout.backend.release.model import DeployRequest, Steered
    from turnout.backend.release.stages import Say
    from turnout.backend.service import ReleaseService


class TrafficDesk:
    """Where every traffic verb of `service` is planned and written."""

    def __init__(self, service: ReleaseService) -> None:
        self.service = service

    async def preview(self, action: str, name: str, *, namespace: str | None = None,
                      percent: int | None = None, to: str | None = None,
                      to_version: str = "", redeploy: DeployRequest | None = None) -> ActionResult:
        """What `action` would change, computed from the current state; nothing is written.
        With a deploy in flight, abort, promote and resume say how they steer it. A rollback
        to a version no color runs previews the deploy that brings it back (`redeploy`: that
        deploy's options; the image comes from the history)."""
        service = self.service
        app = await service.cluster.get_app(name, namespace)
        through_flow = await service.releases.preview(action, app, to_version=to_version,
                                                      redeploy=redeploy)
        if through_flow is not None:
            return through_flow
        if action == "resume":
            return verbs.outcome(app, action, app.traffic, dry_run=True,
                                 changed=app.operation is not None)
        if action != "rollback":
            refuse_unfinished(app, action)
        plan = verbs.planner(action, app, percent=percent, to=to, to_version=to_version)
        return verbs.outcome(app, action, plan(app.traffic), dry_run=True)

    async def apply(self, action: str, name: str, *, namespace: str | None = None,
                    percent: int | None = None, to: str | None = None, to_version: str = "",
                    redeploy: DeployRequest | None = None, reason: str = "",
                    dry_run: bool = False, say: Say | None = None) -> ActionResult | Steered:
        """Perform the `action` that `preview` showed (same names, same parameters); abort and
        promote steer the app's deploy in flight when it has one; a rollback to a version no
        color runs deploys it from the history (the deploy's outcome and exit code)."""
        steered = await self.service.releases.apply(action, name, namespace=namespace,
                                                    to_version=to_version, redeploy=redeploy,
                                                    reason=reason, dry_run=dry_run, say=say)
        if steered is not None:
            return steered
        return await self.act(action, name, namespace=namespace, percent=percent, to=to,
                              to_version=to_version, reason=reason, dry_run=dry_run)

    async def act(self, action: str, name: str, *, namespace: str | None = None,
                  percent: int | None = None, to: str | None = None, to_version: str = "",
                  reason: str = "", dry_run: bool = False) -> ActionResult:
        """Move the app's traffic by `action`, never steering a deploy in flight."""
        if action == "rollback":
            return await self._rollback(name, to_version, namespace=namespace, reason=reason,
                                        dry_run=dry_run)
        app = await self.service.cluster.get_app(name, namespace)
        plan = verbs.planner(action, app, percent=percent, to=to)
        return await self.write(action, app, plan, reason=reason, dry_run=dry_run)

    async def _rollback(self, name: str, to_version: str, *, namespace: str | None,
                        reason: str, dry_run: bool) -> ActionResult:
        """An interrupted multi-object change is undone from its journal first: planning
        from a half-applied state could pick the wrong color. The color to restore is
        scaled back up and waited for before traffic moves to it."""
        service = self.service
        app = await service.cluster.get_app(name, namespace)
        if app.operation is not None and not dry_run:
            await service.coordination.resume(name, namespace, back=True,
                                              what="rollback of an interrupted operation")
            app = await service.cluster.get_app(name, namespace)
        if to_version and await service.rollback_redeploy(app, to_version) is not None:
            raise InvalidInput(f"no color of {app.name} runs {to_version}: apply('rollback') "
                               "deploys it from the release history")
        plan = verbs.rollback_planner(app, to_version)
        target = plan(app.traffic)
        live_replicas = app.slot(app.traffic.live).desired
        if target.live != app.traffic.live and app.slot(target.live).desired < live_replicas:
            await service.scale(name, target.live, live_replicas, namespace=namespace,
                                reason=reason, dry_run=dry_run)
            if not dry_run:
                await service.wait_ready(name, target.live, namespace=namespace)
            app = await service.cluster.get_app(name, namespace)
        return await self.write("rollback", app, plan, reason=reason, dry_run=dry_run)

    async def write(self, action: str, app: App, plan: verbs.Planner, *, dry_run: bool = False,
                    reason: str = "") -> ActionResult:
        """Write the traffic `plan` gives the app (when it moves anything), audited."""
        service = self.service
        if action != "rollback":  # rollback undoes the operation first: a way out
            refuse_unfinished(app, action)
        target = plan(app.traffic)
        changed = verbs.moves(app.traffic, target)
        after = (await service.cluster.write_traffic(app, target, dry_run=dry_run) if changed
                 else app.traffic)
        if changed:
            await service.auditor.app_write(app, action, verbs.traffic_view(app.traffic),
                                            verbs.traffic_view(after), reason=reason,
                                            dry_run=dry_run)
        return verbs.outcome(app, action, after, dry_run=dry_run, changed=changed)
