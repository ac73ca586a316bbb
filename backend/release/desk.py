"""`ReleaseDesk`: what `ReleaseService` asks of the release flow.

A traffic verb goes through the release flow in two cases: abort, promote and resume of an app
with a deploy in flight steer that deploy (`steer.py`), and a rollback to a version no color
runs deploys it from the history (`rollback.py`). The desk decides which, so the service's
verbs stay one dispatch; it also assembles the flow's console (the service's release records,
pace and the guard's triggers) for deploy, flow and history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from turnout.backend import verbs
from turnout.backend.errors import InvalidInput
from turnout.backend.models import ActionResult, App
from turnout.backend.release import rollback
from turnout.backend.release.deploy_console import DeployConsole
from turnout.backend.release.flow import log_only
from turnout.backend.release.model import DeployRequest, Steered
from turnout.backend.release.port import ReleasePort
from turnout.backend.release.stages import Say
from turnout.backend.release.steer import Steering, steer, steering

if TYPE_CHECKING:
    from turnout.backend.service import ReleaseService


class ReleaseDesk:
    """The release flow of one service: its console, and the verbs that go through it."""

    def __init__(self, service: ReleaseService, records: ReleasePort | None) -> None:
        self.service = service
        self._records = records

    def records(self) -> ReleasePort:
        """Where this environment keeps release flows and history, as assembled."""
        if self._records is None:
            raise InvalidInput(f"context {self.service.context} keeps no release records: "
                               "release flows need a Kubernetes cluster or the demo")
        return self._records

    def console(self, say: Say | None = None) -> DeployConsole:
        """The release flow's console: the service's records, pace and the guard's triggers;
        `say` receives progress lines."""
        from turnout.backend.release.guard_link import guard_triggers

        service = self.service
        return DeployConsole(service, self.records(), sleep=service.pace, say=say or log_only,
                             triggers=guard_triggers(service, service.guard_config()))

    async def steering(self, action: str, name: str, namespace: str | None, *,
                       back: bool = False) -> Steering | None:
        """The deploy in flight `action` would steer, with the line to confirm; None if none."""
        return await steering(self.console(), action, name, namespace, back=back)

    async def preview(self, action: str, app: App, *, to_version: str = "",
                      redeploy: DeployRequest | None = None) -> ActionResult | None:
        """What `action` would do through the release flow (the deploy a rollback to
        `to_version` runs, how a deploy in flight is steered); None for a plain traffic verb."""
        if action == "rollback" and to_version:
            request = await self.rollback_request(app, to_version, redeploy)
            if request is not None:
                return await rollback.preview(self.console(), app, request)
        if action in (*verbs.STEERING_VERBS, "resume"):
            found = await self.steering(action, app.name, app.namespace)
            if found is not None:
                return verbs.outcome(app, action, app.traffic, dry_run=True, changed=False,
                                     message=found[2])
        return None

    async def apply(self, action: str, name: str, *, namespace: str | None, to_version: str,
                    redeploy: DeployRequest | None, reason: str, dry_run: bool,
                    say: Say | None) -> Steered | None:
        """Perform what `preview` showed through the release flow: the rollback's deploy, or
        the steer of the deploy in flight; None for a plain traffic verb."""
        if action == "rollback" and to_version:
            app = await self.service.state(name, namespace)
            request = await self.rollback_request(app, to_version, redeploy)
            if request is not None:
                request = msgspec.structs.replace(request, reason=reason or request.reason)
                return await rollback.redeploy(self.console(say), request, dry_run=dry_run)
        if action in verbs.STEERING_VERBS:
            found = await self.steering(action, name, namespace)
            if found is not None:
                return await steer(self.console(say), found[0], found[1], dry_run=dry_run)
        return None

    async def resume(self, name: str, namespace: str | None, *, back: bool,
                     say: Say | None) -> Steered | None:
        """Continue the app's deploy whose driver died; None when it has none in flight."""
        found = await self.steering("resume", name, namespace, back=back)
        if found is None:
            return None
        return await steer(self.console(say), found[0], found[1])

    async def rollback_request(self, app: App, version: str,
                               template: DeployRequest | None = None) -> DeployRequest | None:
        """The deploy a rollback to `version` needs; None when a color runs it."""
        return await rollback.redeploy_request(self.console(), app, version, template)
