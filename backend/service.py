"""The release service: the one facade both front ends call.

Domain verbs read the app, compute an absolute target with `plans`, write it
conditionally through the cluster port, and record an audit entry. New
behaviour belongs here, never in a widget or a CLI command.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from turnout.backend import plans, signals
from turnout.backend.audit import AuditLog, os_user
from turnout.backend.coordination import Coordination
from turnout.backend.errors import InvalidInput, NotFound, TurnoutError
from turnout.backend.flags.console import FlagChange, FlagConsole
from turnout.backend.flags.console import view as flag_view
from turnout.backend.flags.model import Flag, Segment
from turnout.backend.models import (
    COLORS,
    ActionResult,
    App,
    AuditEntry,
    Color,
    Traffic,
)
from turnout.backend.ports import (
    AuditEvents,
    Autoscaled,
    ClusterPort,
    ManifestSource,
    MetricsPort,
)
from turnout.backend.unfinished import refuse_unfinished
from turnout.backend.views import ClusterViews

if TYPE_CHECKING:
    from turnout.backend.checklist import Checklist
    from turnout.backend.config import GuardSettings
    from turnout.backend.guard.engine import Guard
    from turnout.backend.guard.recording import IncidentRecord
    from turnout.backend.notify import Fanout
    from turnout.backend.release.console import DeployConsole
    from turnout.backend.release.model import DeployRequest, Flow, Release, Steered
    from turnout.backend.release.port import ReleasePort
    from turnout.backend.release.stages import Say, Sleep
    from turnout.backend.release.steer import Verb as SteerVerb
    from turnout.backend.scaling import ScalePlan

    Steering = tuple[SteerVerb, Flow, str]

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ReleaseService(ClusterViews, Coordination):
    """Read and act on blue/green apps of one cluster context."""

    def __init__(self, cluster: ClusterPort, metrics: MetricsPort | None = None, *,
                 audit: AuditLog | None = None, identity: str = "", clock: Clock = _utcnow,
                 read_only: bool = False, flags: FlagConsole | None = None,
                 incidents_folder: Path | None = None,
                 scope: str | None = None, releases: ReleasePort | None = None,
                 pace: Sleep = asyncio.sleep, guard: GuardSettings | None = None,
                 notifier: Callable[[], Fanout] | None = None, guard_here: bool = False) -> None:
        self.cluster = cluster
        self.metrics = metrics
        self.audit = audit or AuditLog()
        self.identity = identity or os_user()
        self._identity_resolved = bool(identity)
        self.clock = clock
        self.read_only = read_only
        """Whether writes are refused (the write gate enforces it; front ends only show it)."""
        self.flags = flags
        """The flag verbs, when a flag store is configured."""
        self.scope = scope
        """The namespace `apps()` lists by default (`-n`); None for every namespace."""
        self.incidents_folder = incidents_folder
        """Where incident reports are written and read; None for the user's state directory."""
        self._releases = releases
        self.pace = pace
        """How a release flow waits between measurements (the demo's runs faster)."""
        self.guard_settings = guard
        """The guard's triggers a deploy analyses with (None: the guard's defaults)."""
        self._notifier = notifier
        self._guard_engine: Guard | None = None
        self.guard_here = guard_here
        """Whether a front end runs the guard in its own process (the demo has no in-cluster
        guard)."""

    @property
    def context(self) -> str:
        """The cluster context this service acts on."""
        return self.cluster.context

    # --- reads ---------------------------------------------------------------

    async def apps(self, namespace: str | None = None) -> tuple[App, ...]:
        """Every app, with golden signals and verdicts where metrics can be had."""
        found = await self.cluster.list_apps(namespace if namespace is not None else self.scope)
        return tuple(await asyncio.gather(*(self._observed(app) for app in found)))

    async def app(self, name: str, namespace: str | None = None) -> App:
        """One app, with golden signals and verdicts."""
        return await self._observed(await self.cluster.get_app(name, namespace))

    async def state(self, name: str, namespace: str | None = None) -> App:
        """One app as the cluster has it, without golden signals (what a flow plans from)."""
        return await self.cluster.get_app(name, namespace)

    async def _observed(self, app: App) -> App:
        now = self.clock()
        flowing = [c for c in COLORS if app.traffic.weights.of(c) > 0]
        verdicts = [signals.crash_loop(app.slot(c), now) for c in flowing]
        if self.metrics is None:  # no error-rate signal by configuration: the restarts say
            return msgspec.structs.replace(app, verdicts=tuple(verdicts))
        try:
            metrics = await self.metrics.golden_signals(app)
        except TurnoutError as err:
            log.warning("metrics of %s/%s unavailable: %s", app.namespace, app.name, err)
            verdicts += [signals.unreachable("error-rate", c, now, f"metrics/{app.name}/{c}", 1)
                         for c in flowing]
            return msgspec.structs.replace(app, verdicts=tuple(verdicts))
        measured = {m.color for m in metrics}
        verdicts += [signals.error_rate(m, now, source=f"metrics/{app.name}/{m.color}")
                     for m in metrics if m.color in flowing]
        verdicts += [signals.no_source("error-rate", c, now, "no metrics for this color")
                     for c in flowing if c not in measured]
        return msgspec.structs.replace(app, metrics=metrics, verdicts=tuple(verdicts))

    def changes(self) -> AsyncIterator[tuple[str, str]]:
        """(namespace, app) whenever an app changes; from the cluster's watch."""
        return self.cluster.changes()

    async def series(self, app: App, color: Color, signal: str,
                     minutes: int = 15) -> tuple[tuple[float, float], ...]:
        """A metric's recent samples for charts; empty without a metrics source."""
        if self.metrics is None:
            return ()
        return await self.metrics.series(app, color, signal, minutes)

    async def check(self, name: str, namespace: str | None = None) -> Checklist:
        """The app audited against the production shape (`checklist.py`): every item
        pass, warn or fail with its object and field. Read-only."""
        from turnout.backend.checklist import audit

        app = await self.cluster.get_app(name, namespace)
        if not isinstance(self.cluster, ManifestSource):
            raise InvalidInput(f"context {self.context} cannot hand over {app.name}'s objects "
                               "for a checklist")
        return audit(await self.cluster.manifests(app), self.context)

    # --- traffic verbs -------------------------------------------------------

    async def preview(self, action: str, name: str, *, namespace: str | None = None,
                      percent: int | None = None, to: str | None = None,
                      to_version: str = "", redeploy: DeployRequest | None = None) -> ActionResult:
        """What `action` would change, computed from the current state; nothing is written.
        A rollback to a version no color runs previews the deploy that brings it back
        (`redeploy`: that deploy's options; the image comes from the history)."""
        app = await self.cluster.get_app(name, namespace)
        if action == "rollback" and to_version:
            request = await self.rollback_redeploy(app, to_version, redeploy)
            if request is not None:
                return await self._redeploy_preview(app, request)
        if action in ("abort", "promote", "promote-full", "resume"):
            steering = await self._steering(action, name, app.namespace)
            if steering is not None:
                return ActionResult(action=action, app=app.name, namespace=app.namespace,
                                    before=app.traffic, after=app.traffic, dry_run=True,
                                    message=steering[2])
            if action == "resume":
                return ActionResult(action=action, app=app.name, namespace=app.namespace,
                                    before=app.traffic, after=app.traffic, dry_run=True,
                                    changed=app.operation is not None)
        if action not in ("rollback", "resume"):
            refuse_unfinished(app, action)
        planner = (self._rollback_planner(app, to_version) if action == "rollback"
                   else self._planner(action, percent, to))
        target = planner(app.traffic)
        changed = (target.live, target.weights) != (app.traffic.live, app.traffic.weights)
        return ActionResult(action=action, app=app.name, namespace=app.namespace,
                            before=app.traffic, after=target, dry_run=True, changed=changed)

    async def apply(self, action: str, name: str, *, namespace: str | None = None,
                    percent: int | None = None, to: str | None = None, to_version: str = "",
                    redeploy: DeployRequest | None = None, reason: str = "",
                    dry_run: bool = False, say: Say | None = None) -> ActionResult | Steered:
        """Perform the `action` that `preview` showed (same names, same parameters); abort and
        promote steer the app's deploy in flight when it has one; a rollback to a version no
        color runs deploys it from the history (the deploy's outcome and exit code)."""
        kw: dict[str, Any] = {"namespace": namespace, "reason": reason, "dry_run": dry_run}
        if action == "rollback" and to_version:
            from turnout.backend.release import rollback as rollback_to

            app = await self.cluster.get_app(name, namespace)
            request = await self.rollback_redeploy(app, to_version, redeploy)
            if request is not None:
                request = msgspec.structs.replace(request, reason=reason or request.reason)
                return await rollback_to.redeploy(self.deploys(say), request, dry_run=dry_run)
        if action == "rollback":
            return await self.rollback(name, to_version=to_version, **kw)
        if action in ("abort", "promote", "promote-full"):
            steering = await self._steering(action, name, namespace)
            if steering is not None:
                return await self._steer(steering, dry_run=dry_run, say=say)
        return await self._traffic(action, name, self._planner(action, percent, to), **kw)

    @staticmethod
    def _planner(action: str, percent: int | None, to: str | None) -> Callable[[Traffic], Traffic]:
        if action == "weight" and percent is not None:
            return lambda t: plans.with_weight(t, percent)
        if action == "switch" and to is not None:
            color = plans.check_color(to)
            return lambda t: plans.switched(t, color)
        planners: dict[str, Callable[[Traffic], Traffic]] = {
            "step": plans.next_step, "promote": plans.next_step, "promote-full": plans.promoted,
            "abort": plans.aborted, "rollback": plans.rolled_back}
        if action not in planners:
            raise InvalidInput(f"unknown action {action!r}")
        return planners[action]

    async def set_weight(self, name: str, percent: int, **kw: Any) -> ActionResult:
        """Send `percent` of traffic to the canary color."""
        return await self._traffic("weight", name, lambda t: plans.with_weight(t, percent), **kw)

    async def step(self, name: str, **kw: Any) -> ActionResult:
        """Move the canary to the next weight of its plan."""
        return await self._traffic("step", name, plans.next_step, **kw)

    async def promote(self, name: str, *, full: bool = False, **kw: Any) -> ActionResult | Steered:
        """Next step, or with `full` make the canary color live at 100 %. With a deploy in
        flight: end its pause (a full promote is refused)."""
        return await self.apply("promote-full" if full else "promote", name, **kw)

    async def abort(self, name: str, **kw: Any) -> ActionResult | Steered:
        """Back to the stable color at 100 %. With a deploy in flight: stop it, its driver (or,
        when it is gone, this call) restoring the old color."""
        return await self.apply("abort", name, **kw)

    async def abort_traffic(self, name: str, **kw: Any) -> ActionResult:
        """Back to the stable color at 100 %, whatever drives the app (a deploy's own restore)."""
        return await self._traffic("abort", name, plans.aborted, **kw)

    async def resume(self, name: str, *, namespace: str | None = None, back: bool = False,
                     say: Say | None = None) -> Traffic | Steered | None:
        """Continue the app's deploy whose driver died; else converge an interrupted traffic
        operation (`back`: undo it). None when there was nothing to resume."""
        steering = await self._steering("resume", name, namespace, back=back)
        if steering is not None:
            return await self._steer(steering, say=say)
        return await self.resume_traffic(name, namespace=namespace, back=back)

    async def resume_traffic(self, name: str, *, namespace: str | None = None,
                             back: bool = False) -> Traffic | None:
        """Converge the app's interrupted traffic operation from its journal (`back`: undo
        it), never steering a deploy: what a deploy's own restore calls, as it is that deploy."""
        after: Traffic | None = await self._cluster_verb("resume", "resume")(
            name, namespace, back=back)
        return after

    async def rollback(self, name: str, *, to_version: str = "", **kw: Any) -> ActionResult:
        """Restore the previous color (or the one running `to_version`).

        An interrupted multi-object change is undone from its journal first: planning
        from a half-applied state could pick the wrong color. The color to restore is
        scaled back up and waited for before traffic moves to it.
        """
        namespace = kw.get("namespace")
        app = await self.cluster.get_app(name, namespace)
        if app.operation is not None and not kw.get("dry_run"):
            await self._cluster_verb("resume", "rollback of an interrupted operation")(
                name, namespace, back=True)
            app = await self.cluster.get_app(name, namespace)
        if to_version and await self.rollback_redeploy(app, to_version) is not None:
            raise InvalidInput(f"no color of {app.name} runs {to_version}: apply('rollback') "
                               "deploys it from the release history")
        planner = self._rollback_planner(app, to_version)
        target = planner(app.traffic)
        live_replicas = app.slot(app.traffic.live).desired
        if target.live != app.traffic.live and app.slot(target.live).desired < live_replicas:
            await self.scale(name, target.live, live_replicas, **kw)
            if not kw.get("dry_run"):
                await self.wait_ready(name, target.live, namespace=namespace)
        return await self._traffic("rollback", name, planner, **kw)

    async def rollback_redeploy(self, app: App, version: str,
                                template: DeployRequest | None = None) -> DeployRequest | None:
        """The deploy a rollback to `version` needs: None when a color runs it (the fast path,
        a traffic switch); else its image from the release history, with `template`'s flow
        options. `NotFound`, listing the known versions, for a version never recorded."""
        from turnout.backend.release import rollback as rollback_to

        if rollback_to.running(app, version):
            return None
        releases = await self.history(app.namespace, app.name)
        image = rollback_to.image_of(app, releases, version)
        return rollback_to.request_for(app, image, version, template)

    async def rollback_versions(self, name: str, namespace: str | None = None) -> tuple[str, ...]:
        """The versions `rollback --to` accepts for the app, newest first: the colors' own, then
        the release history's (what the rollback dialog offers)."""
        from turnout.backend.release import rollback as rollback_to

        app = await self.cluster.get_app(name, namespace)
        return tuple(rollback_to.known_versions(app, await self.history(app.namespace, app.name)))

    async def _redeploy_preview(self, app: App, request: DeployRequest) -> ActionResult:
        from turnout.backend.release import rollback as rollback_to

        flow = await self.plan_deploy(request)
        return ActionResult(action="rollback", app=app.name, namespace=app.namespace,
                            before=app.traffic, after=plans.switched(app.traffic, flow.new),
                            dry_run=True, message=rollback_to.confirmation(flow))

    @staticmethod
    def _rollback_planner(app: App, to_version: str) -> Callable[[Traffic], Traffic]:
        if not to_version:
            return plans.rolled_back
        match = [slot.color for slot in (app.blue, app.green) if slot.version == to_version]
        if not match:
            raise InvalidInput(f"no color of {app.name} runs version {to_version!r} "
                               f"(blue {app.blue.version}, green {app.green.version})")
        color = match[0]
        return lambda t: plans.switched(t, color)

    async def switch(self, name: str, to: str, **kw: Any) -> ActionResult:
        """Make `to` the live color with all traffic."""
        color = plans.check_color(to)
        return await self._traffic("switch", name, lambda t: plans.switched(t, color), **kw)

    # --- the release flow ----------------------------------------------------

    def deploys(self, say: Say | None = None) -> DeployConsole:
        """The release flow's console on this service: its records, pace and the guard's
        triggers, as assembled; `say` receives progress lines."""
        from turnout.backend.release.console import DeployConsole
        from turnout.backend.release.flow import log_only
        from turnout.backend.release.guard_link import guard_triggers

        return DeployConsole(self, self.release_records(), sleep=self.pace, say=say or log_only,
                             triggers=guard_triggers(self, self._guard()))

    def release_records(self) -> ReleasePort:
        """Where this environment keeps release flows and history, as assembled."""
        if self._releases is None:
            raise InvalidInput(f"context {self.context} keeps no release records: release flows "
                               "need a Kubernetes cluster or the demo")
        return self._releases

    def _guard(self) -> GuardSettings:
        from turnout.backend.config import GuardSettings

        return self.guard_settings or GuardSettings()

    async def flow(self, name: str, namespace: str | None = None) -> Flow | None:
        """The app's deploy in flight, if any."""
        return await self.deploys().flow(name, namespace)

    async def history(self, namespace: str | None, name: str | None = None) -> tuple[Release, ...]:
        """Recorded releases, oldest first (every app of `namespace` when `name` is None)."""
        return await self.deploys().history(namespace, name)

    async def plan_deploy(self, request: DeployRequest) -> Flow:
        """The flow `deploy` would run, after every check it makes; nothing is written."""
        return await self.deploys().plan(request)

    async def deploy(self, request: DeployRequest, *, say: Say | None = None) -> Release:
        """Deploy an image through the release flow, analysed with the guard's triggers."""
        return await self.deploys(say).deploy(request)

    async def _steering(self, action: str, name: str, namespace: str | None, *,
                        back: bool = False) -> Steering | None:
        """The deploy in flight `action` would steer, with the line to confirm; None if none."""
        from turnout.backend.release.steer import confirmation

        flow = await self.flow(name, namespace)
        if flow is None:
            return None
        verb: SteerVerb = ("promote" if action.startswith("promote")
                           else "abort" if action == "abort" else "resume")
        return verb, flow, confirmation(verb, flow, full=action == "promote-full", back=back)

    async def _steer(self, steering: Steering, *, dry_run: bool = False,
                     say: Say | None = None) -> Steered:
        from turnout.backend.release.steer import steer

        verb, flow, _ = steering
        return await steer(self.deploys(say), verb, flow, dry_run=dry_run)

    async def _traffic(self, action: str, name: str, planner: Callable[[Traffic], Traffic], *,
                       namespace: str | None = None, dry_run: bool = False,
                       reason: str = "") -> ActionResult:
        app = await self.cluster.get_app(name, namespace)
        if action != "rollback":  # rollback undoes the operation first: a way out
            refuse_unfinished(app, action)
        target = planner(app.traffic)
        before = app.traffic
        changed = (target.live, target.weights) != (before.live, before.weights)
        after = await self.cluster.write_traffic(app, target, dry_run=dry_run) if changed else before
        result = ActionResult(action=action, app=app.name, namespace=app.namespace, before=before,
                              after=after, dry_run=dry_run, changed=changed)
        if changed:
            await self._audit(app, action, _traffic_view(before), _traffic_view(after), reason, dry_run)
        return result

    # --- slot verbs ----------------------------------------------------------

    async def scale(self, name: str, color: str, replicas: int, *, namespace: str | None = None,
                    dry_run: bool = False, reason: str = "", restore: bool = False) -> App:
        """Set the replica count of one color; `restore` puts it back to a count it had, an
        HPA governing it back to its own bounds (not left raised to the count)."""
        checked = plans.check_color(color)
        if not 0 <= replicas <= 1000:
            raise InvalidInput(f"replicas {replicas}: expected 0..1000")
        app = await self.cluster.get_app(name, namespace)
        slot = app.slot(checked)
        after = (await self.cluster.scale_back(app, checked, replicas, dry_run=dry_run)
                 if restore and isinstance(self.cluster, Autoscaled) else
                 await self.cluster.scale(app, checked, replicas, dry_run=dry_run))
        # Under an HPA the color may end elsewhere than asked (its minimum): audit what was set.
        await self._audit(app, f"scale-{checked}", {"replicas": slot.desired},
                          {"replicas": after.desired if not dry_run else replicas}, reason, dry_run)
        return await self.app(name, app.namespace)

    async def plan_scale(self, name: str, color: str, replicas: int, *,
                         namespace: str | None = None) -> ScalePlan:
        """What `scale` will do: the replicas the color ends at and, where an HPA governs it,
        the HPA's bounds before and after (`ScalePlan.line` is the confirmation)."""
        from turnout.backend.scaling import plan

        checked = plans.check_color(color)
        if not 0 <= replicas <= 1000:
            raise InvalidInput(f"replicas {replicas}: expected 0..1000")
        app = await self.cluster.get_app(name, namespace)
        if isinstance(self.cluster, Autoscaled):
            return await self.cluster.scale_plan(app, checked, replicas)
        return plan(app.name, app.namespace, checked, replicas, app.slot(checked).desired)

    async def set_image(self, name: str, color: str, image: str, *, namespace: str | None = None,
                        dry_run: bool = False, reason: str = "") -> App:
        """Deploy `image` into one color (normally the idle one)."""
        checked = plans.check_color(color)
        if not image or any(ch.isspace() for ch in image):
            raise InvalidInput(f"image {image!r}: expected a reference like registry/app:tag")
        app = await self.cluster.get_app(name, namespace)
        before = app.slot(checked).image
        await self.cluster.set_image(app, checked, image, dry_run=dry_run)
        await self._audit(app, f"set-image-{checked}", {"image": before}, {"image": image},
                    reason, dry_run)
        return await self.app(name, app.namespace)

    async def panic_preview(self, name: str, *, namespace: str | None = None
                            ) -> tuple[ActionResult, tuple[str, ...]]:
        """What `panic` would do: the abort's preview and the flags it would turn off."""
        preview = await self.preview("abort", name, namespace=namespace)
        linked = await self.flags.linked(preview.app) if self.flags else ()
        return preview, tuple(f.key for f in linked)

    async def panic(self, name: str, *, namespace: str | None = None, reason: str = "panic",
                    dry_run: bool = False, say: Say | None = None
                    ) -> tuple[ActionResult | Steered, tuple[str, ...]]:
        """Abort the app's rollout (stopping its deploy in flight) and turn off its linked
        flags, in that order; returns the abort and the flags turned off.

        Traffic first: it is the faster and more certain way to stop the damage.
        """
        if dry_run:
            return await self.panic_preview(name, namespace=namespace)
        result = await self.abort(name, namespace=namespace, reason=reason, say=say)
        return result, await self.kill_linked_flags(result.app, reason=reason)

    async def kill_linked_flags(self, app: str, *, reason: str) -> tuple[str, ...]:
        """Turn off every flag that belongs to `app` and is on, each write audited; the keys."""
        linked = await self.flags.linked(app) if self.flags else ()
        for flag in linked:
            await self.write_flag(await self.plan_flag("off", flag.key), reason=reason)
        return tuple(f.key for f in linked)

    # --- flags -----------------------------------------------------------------

    def flag_console(self) -> FlagConsole:
        """The flag verbs of the configured store; `InvalidInput` when there is none."""
        if self.flags is None:
            raise InvalidInput("no flag store configured: set flags_url (or TURNOUT_FLAGS_URL)")
        return self.flags

    async def plan_flag(self, verb: str, key: str, **params: Any) -> FlagChange:
        """What a flag verb (on, off, rollout, stage, target, revert) would write; nothing is."""
        return await self.flag_console().plan(verb, key, **params)

    async def write_flag(self, change: FlagChange, *, reason: str = "",
                         dry_run: bool = False) -> Flag | Segment:
        """Write a planned flag change (conditional on the version it was planned from) under
        this operator's identity, and audit it as every release write is; with `dry_run`, the
        flag as it would be, nothing written."""
        if dry_run:
            return change.after
        saved = await self.flag_console().commit(change, by=await self.who(), reason=reason)
        entry = AuditEntry(at=self.clock(), who=await self.who(), os_user=os_user(),
                           context=self.context, namespace="",
                           app=saved.meta.app if isinstance(saved, Flag) else "",
                           action=change.action, before=flag_view(change.before),
                           after=flag_view(saved), reason=reason,
                           operation_id=uuid.uuid4().hex[:12])
        self._record(entry)
        return saved

    def guard(self) -> Guard:
        """The automatic rollback guard on this service (one per service, so its streaks and
        alerts last across checks)."""
        if self._guard_engine is None:
            from turnout.backend.guard.engine import Guard
            from turnout.backend.notify import Fanout

            notifier = self._notifier() if self._notifier is not None else Fanout()
            self._guard_engine = Guard(self, self._guard(), notifier)
        return self._guard_engine

    async def incident_records(self, namespace: str | None = None,
                               name: str | None = None) -> tuple[IncidentRecord, ...]:
        """The incident records the guard kept in the cluster, oldest first (one app's with
        `name`), each with its recording for `turnout incident replay`."""
        from turnout.backend.guard.recording import IncidentStore

        if not isinstance(self.cluster, IncidentStore):
            raise InvalidInput(f"context {self.context} keeps no incident records")
        found = await self.cluster.incident_records(namespace)
        return tuple(r for r in found if name in (None, r.incident.app))

    async def incident_record(self, incident_id: str,
                              namespace: str | None = None) -> IncidentRecord:
        """One incident record by its id (or the start of one); `NotFound` naming the newest."""
        found = await self.incident_records(namespace)
        exact = [r for r in found if r.id == incident_id]
        matches = exact or [r for r in found if r.id.startswith(incident_id)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise InvalidInput(f"incident {incident_id!r} is ambiguous: "
                               + ", ".join(r.id for r in matches[-5:]))
        newest = ", ".join(r.id for r in found[-5:]) or "none recorded"
        raise NotFound(f"no incident {incident_id!r} in context {self.context} (newest: {newest})")

    @property
    def fire_drills(self) -> bool:
        """Whether this environment can rehearse a failure (`fire_drill`)."""
        return getattr(self.cluster, "fire_drill", None) is not None

    async def fire_drill(self, name: str, namespace: str | None = None) -> Color:
        """Demo only: make the new color fail so an operator can rehearse a rollback."""
        drill = getattr(self.cluster, "fire_drill", None)
        if drill is None:
            raise InvalidInput("fire drills run only on the demo environment (turnout demo)")
        app = await self.cluster.get_app(name, namespace)
        color: Color = await drill(app)
        return color

    async def who(self) -> str:
        """The acting identity: the API server's view of us where it can tell, else ours."""
        if not self._identity_resolved:
            self._identity_resolved = True
            ask = getattr(self.cluster, "identity", None)
            if ask is not None:
                try:
                    self.identity = await ask() or self.identity
                except TurnoutError as err:
                    log.warning("identity unknown to the server (%s); auditing as %s", err,
                                self.identity)
        return self.identity

    async def _audit(self, app: App, action: str, before: dict[str, object],
                     after: dict[str, object], reason: str, dry_run: bool) -> None:
        entry = AuditEntry(at=self.clock(), who=await self.who(), os_user=os_user(),
                           context=app.context, namespace=app.namespace, app=app.name,
                           action=action, before=before, after=after, reason=reason,
                           operation_id=uuid.uuid4().hex[:12], dry_run=dry_run)
        self._record(entry)
        if not dry_run and isinstance(self.cluster, AuditEvents):
            await self.cluster.record_audit(app, entry)

    def _record(self, entry: AuditEntry) -> None:
        try:
            self.audit.record(entry)
        except OSError as err:
            log.error("audit log %s not writable: %s", self.audit.path, err)

    async def close(self) -> None:
        """Release the cluster connection and watches."""
        await self.cluster.close()
        close_metrics = getattr(self.metrics, "close", None)
        if close_metrics is not None:
            await close_metrics()
        if self.flags is not None:
            await self.flags.close()


def confirmation(result: ActionResult, context: str) -> str:
    """The one line an operator confirms for a preview: where, what, before and after."""
    where = f"{result.namespace}/{result.app} in context {context}"
    if result.message:
        return f"{result.message} ({where})"
    b, a = result.before, result.after
    return (f"{result.action} {where}: live {b.live} -> {a.live}, blue/green "
            f"{b.weights.blue}/{b.weights.green} -> {a.weights.blue}/{a.weights.green}")


def _traffic_view(traffic: Traffic) -> dict[str, object]:
    return {"live": traffic.live, "weights": {"blue": traffic.weights.blue,
                                              "green": traffic.weights.green}}
