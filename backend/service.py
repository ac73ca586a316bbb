"""The release service: the one facade both front ends call.

Domain verbs read the app, compute an absolute target with `plans`, write it
conditionally through the cluster port, and record an audit entry. New
behaviour belongs here, never in a widget or a CLI command.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from turnout.backend import plans, verbs
from turnout.backend.audit import AuditLog, Auditor
from turnout.backend.cluster_views import ClusterViews
from turnout.backend.coordination import Coordination
from turnout.backend.errors import InvalidInput
from turnout.backend.flags.bucketing_edit import RuleChange
from turnout.backend.flags.flag_console import FlagChange, FlagConsole
from turnout.backend.flags.model import Bucketing, Flag, Segment
from turnout.backend.golden import observed
from turnout.backend.models import (
    ActionResult,
    App,
    ClusterEvent,
    Color,
    Pod,
    PodDetail,
    Traffic,
)
from turnout.backend.ports import (
    ClusterPort,
    FireDrills,
    ManifestSource,
    MetricsPort,
)
from turnout.backend.readiness import wait_ready
from turnout.backend.slot_writes import SlotWrites
from turnout.backend.traffic_desk import TrafficDesk
from turnout.backend.verbs import SlotChange, confirmation

if TYPE_CHECKING:
    from turnout.backend.checklist import Checklist
    from turnout.backend.config import GuardSettings
    from turnout.backend.guard.engine import Guard
    from turnout.backend.guard.incident import Incident
    from turnout.backend.guard.recording import IncidentRecord
    from turnout.backend.notify import Fanout
    from turnout.backend.release.deploy_console import DeployConsole
    from turnout.backend.release.desk import ReleaseDesk
    from turnout.backend.release.model import DeployRequest, Flow, Release, Steered
    from turnout.backend.release.port import ReleasePort
    from turnout.backend.release.stages import Say, Sleep
    from turnout.backend.scaling import ScalePlan

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


__all__ = ["ReleaseService", "confirmation"]


class ReleaseService:
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
        self.auditor = Auditor(self.audit, cluster, identity, clock)
        """Who acts, and the record of every write (release or flag)."""
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
        self.views = ClusterViews(cluster, read_only=read_only, incidents_folder=incidents_folder)
        """Pods in depth, events, who may act, incidents."""
        self.slots = SlotWrites(cluster, self.auditor)
        """Scale and set-image on one color, audited."""
        self.coordination = Coordination(cluster, self.auditor)
        """The release lock and the journal's resume, audited."""

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

    async def states(self, namespace: str | None = None) -> tuple[App, ...]:
        """Every app as the cluster has it, without golden signals (what a guard lists)."""
        return await self.cluster.list_apps(namespace if namespace is not None else self.scope)

    async def state(self, name: str, namespace: str | None = None) -> App:
        """One app as the cluster has it, without golden signals (what a flow plans from)."""
        return await self.cluster.get_app(name, namespace)

    async def _observed(self, app: App) -> App:
        return await observed(app, self.metrics, self.clock())

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
        """The app audited against the production shape (`checklist/`): every item
        pass, warn or fail with its object and field. Read-only."""
        from turnout.backend.checklist import audit

        app = await self.cluster.get_app(name, namespace)
        if not isinstance(self.cluster, ManifestSource):
            raise InvalidInput(f"context {self.context} cannot hand over {app.name}'s objects "
                               "for a checklist")
        return audit(await self.cluster.manifests(app), self.context)

    # --- traffic verbs -------------------------------------------------------

    @property
    def traffic(self) -> TrafficDesk:
        """The traffic verbs' dispatch and write (`traffic_desk.py`)."""
        return TrafficDesk(self)

    async def preview(self, action: str, name: str, *, namespace: str | None = None,
                      percent: int | None = None, to: str | None = None,
                      to_version: str = "", redeploy: DeployRequest | None = None) -> ActionResult:
        """What `action` would change; nothing is written (`TrafficDesk.preview`)."""
        return await self.traffic.preview(action, name, namespace=namespace, percent=percent,
                                          to=to, to_version=to_version, redeploy=redeploy)

    async def apply(self, action: str, name: str, *, namespace: str | None = None,
                    percent: int | None = None, to: str | None = None, to_version: str = "",
                    redeploy: DeployRequest | None = None, reason: str = "",
                    dry_run: bool = False, say: Say | None = None) -> ActionResult | Steered:
        """Perform the `action` that `preview` showed (`TrafficDesk.apply`): the one dispatch
        of every traffic verb; the named verbs below come there too."""
        return await self.traffic.apply(action, name, namespace=namespace, percent=percent,
                                        to=to, to_version=to_version, redeploy=redeploy,
                                        reason=reason, dry_run=dry_run, say=say)

    async def set_weight(self, name: str, percent: int, **kw: Any) -> ActionResult:
        """Send `percent` of traffic to the canary color."""
        return await self.traffic.act("weight", name, percent=percent, **kw)

    async def step(self, name: str, **kw: Any) -> ActionResult:
        """Move the canary to the next weight of its plan."""
        return await self.traffic.act("step", name, **kw)

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
        return await self.traffic.act("abort", name, **kw)

    async def rollback(self, name: str, *, to_version: str = "", **kw: Any) -> ActionResult:
        """Restore the previous color (or the one running `to_version`)."""
        return await self.traffic.act("rollback", name, to_version=to_version, **kw)

    async def switch(self, name: str, to: str, **kw: Any) -> ActionResult:
        """Make `to` the live color with all traffic."""
        return await self.traffic.act("switch", name, to=to, **kw)

    async def rollback_redeploy(self, app: App, version: str,
                                template: DeployRequest | None = None) -> DeployRequest | None:
        """The deploy a rollback to `version` needs, None for the fast path
        (`release/rollback.py`)."""
        return await self.releases.rollback_request(app, version, template)

    async def rollback_versions(self, name: str, namespace: str | None = None) -> tuple[str, ...]:
        """The versions `rollback --to` accepts for the app, newest first."""
        from turnout.backend.release import rollback as rollback_to

        app = await self.cluster.get_app(name, namespace)
        return await rollback_to.versions(self.deploys(), app)

    async def resume(self, name: str, *, namespace: str | None = None, back: bool = False,
                     say: Say | None = None) -> Traffic | Steered | None:
        """Continue the app's deploy whose driver died; else converge an interrupted traffic
        operation (`back`: undo it). None when there was nothing to resume."""
        steered = await self.releases.resume(name, namespace, back=back, say=say)
        if steered is not None:
            return steered
        return await self.resume_traffic(name, namespace=namespace, back=back)

    async def resume_traffic(self, name: str, *, namespace: str | None = None,
                             back: bool = False) -> Traffic | None:
        """Converge the app's interrupted traffic operation from its journal (`back`: undo
        it), never steering a deploy: what a deploy's own restore calls, as it is that deploy."""
        return await self.coordination.resume(name, namespace, back=back)

    # --- the release flow ----------------------------------------------------

    @functools.cached_property
    def releases(self) -> ReleaseDesk:
        """The release flow on this service (`release/desk.py`): what goes through it."""
        from turnout.backend.release.desk import ReleaseDesk

        return ReleaseDesk(self, self._releases)

    def deploys(self, say: Say | None = None) -> DeployConsole:
        """The release flow's console on this service; `say` receives progress lines."""
        return self.releases.console(say)

    def release_records(self) -> ReleasePort:
        """Where this environment keeps release flows and history, as assembled."""
        return self.releases.records()

    def guard_config(self) -> GuardSettings:
        """The guard's settings as configured, else its defaults."""
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

    # --- slot verbs ----------------------------------------------------------

    async def preview_slot(self, verb: str, name: str, color: str, value: int | str, *,
                           namespace: str | None = None) -> SlotChange:
        """What `scale` or `set-image` would change on one color; nothing is written."""
        verbs.check_slot(verb, color, value)
        app = await self.cluster.get_app(name, namespace)
        return await self.slots.preview(app, verb, color, value)

    async def plan_scale(self, name: str, color: str, replicas: int, *,
                         namespace: str | None = None) -> ScalePlan:
        """What `scale` will do: the replicas the color ends at and, where an HPA governs it,
        the HPA's bounds before and after (`ScalePlan.line` is the confirmation)."""
        verbs.check_slot("scale", color, replicas)
        app = await self.cluster.get_app(name, namespace)
        return await self.slots.scale_plan(app, plans.check_color(color), replicas)

    async def scale(self, name: str, color: str, replicas: int, *, namespace: str | None = None,
                    dry_run: bool = False, reason: str = "", restore: bool = False) -> App:
        """Set the replica count of one color; `restore` puts it back to a count it had, an
        HPA governing it back to its own bounds (not left raised to the count)."""
        return await self.apply_slot("scale", name, color, replicas, namespace=namespace,
                                     dry_run=dry_run, reason=reason, restore=restore)

    async def set_image(self, name: str, color: str, image: str, *, namespace: str | None = None,
                        dry_run: bool = False, reason: str = "") -> App:
        """Deploy `image` into one color (normally the idle one)."""
        return await self.apply_slot("set-image", name, color, image, namespace=namespace,
                                     dry_run=dry_run, reason=reason)

    async def apply_slot(self, verb: str, name: str, color: str, value: int | str, *,
                         namespace: str | None = None, dry_run: bool = False,
                         reason: str = "", restore: bool = False) -> App:
        """Perform the slot change `preview_slot` showed (same names, same parameters): the
        one dispatch of `scale` and `set-image`, audited as `scale-blue`, `set-image-green`."""
        verbs.check_slot(verb, color, value)
        app = await self.cluster.get_app(name, namespace)
        await self.slots.apply(app, verb, color, value, dry_run=dry_run, reason=reason,
                               restore=restore)
        return await self.app(name, app.namespace)

    # --- coordination ----------------------------------------------------------

    async def lock(self, name: str, *, namespace: str | None = None, force: bool = False,
                   reason: str = "") -> str:
        """Take or renew the app's release lock, audited; returns the holder it was taken from."""
        return await self.coordination.lock(name, namespace, force=force, reason=reason)

    async def unlock(self, name: str, *, namespace: str | None = None, force: bool = False,
                     reason: str = "") -> str:
        """Release the app's lock, audited; returns who held it."""
        return await self.coordination.unlock(name, namespace, force=force, reason=reason)

    async def wait_ready(self, name: str, color: str, *, namespace: str | None = None,
                         timeout: float = 120.0) -> App:
        """Wait until every desired pod of `color` is ready; `Unavailable` after `timeout`."""
        return await wait_ready(self.cluster, name, color, namespace=namespace, timeout=timeout)

    # --- panic -----------------------------------------------------------------

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
        if self.flags is None:
            return ()
        return await self.flags.turn_off_linked(app, audit=self.auditor, reason=reason)

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
        """Write a planned flag change under this operator's identity, audited (see
        `FlagConsole.write`)."""
        return await self.flag_console().write(change, audit=self.auditor, reason=reason,
                                               dry_run=dry_run)

    async def plan_bucketing(self, rule: Bucketing, keys: Sequence[str] | None
                             ) -> tuple[RuleChange, ...]:
        """What `write_bucketing` would change, with the share of users who move."""
        return await self.flag_console().plan_bucketing(rule, keys)

    async def write_bucketing(self, rule: Bucketing, keys: Sequence[str] | None, *,
                              reason: str = "", dry_run: bool = False) -> tuple[RuleChange, ...]:
        """Give flags `keys` (None: every flag) the bucketing `rule`, each write audited; with
        `dry_run`, the plan, nothing written."""
        console = self.flag_console()
        if dry_run:
            return await console.plan_bucketing(rule, keys)
        return await console.write_bucketing(rule, keys, audit=self.auditor, reason=reason)

    # --- views beside the apps (`ClusterViews`) ----------------------------------

    async def pods(self, name: str, namespace: str | None = None) -> tuple[Pod, ...]:
        """The app's pods, blue then green."""
        return await self.views.pods(name, namespace)

    async def events(self, name: str, namespace: str | None = None,
                     limit: int = 20) -> tuple[ClusterEvent, ...]:
        """What the cluster said lately about the app's objects (none if it cannot tell)."""
        return await self.views.events(name, namespace, limit)

    async def events_of(self, app: App, limit: int = 20) -> tuple[ClusterEvent, ...]:
        """`events` for an app record already in hand (a screen refreshing its tail)."""
        return await self.views.events_of(app, limit)

    async def pod(self, name: str, pod: str, namespace: str | None = None,
                  log_lines: int = 20) -> PodDetail:
        """One pod of the app in depth (describe plus its log tail)."""
        return await self.views.pod(name, pod, namespace, log_lines)

    def latest_incident(self, name: str, namespace: str) -> Incident | None:
        """The app's newest incident report in this context (for the recovery clock)."""
        return self.views.latest_incident(name, namespace)

    async def write_blocker(self, app: App) -> str:
        """Why this operator cannot change `app`'s traffic now (read-only, a lock, RBAC), or
        empty; for greying actions out before anyone confirms anything."""
        return await self.views.write_blocker(app)

    # --- the guard, the acting identity ----------------------------------------

    def guard(self) -> Guard:
        """The automatic rollback guard on this service (one per service, so its streaks and
        alerts last across checks)."""
        if self._guard_engine is None:
            from turnout.backend.guard.engine import Guard
            from turnout.backend.notify import Fanout

            notifier = self._notifier() if self._notifier is not None else Fanout()
            self._guard_engine = Guard(self, self.guard_config(), notifier)
        return self._guard_engine

    async def incident_records(self, namespace: str | None = None,
                               name: str | None = None) -> tuple[IncidentRecord, ...]:
        """The incident records the guard kept in the cluster, oldest first (one app's with
        `name`), each with its recording for `turnout incident replay`."""
        from turnout.backend.guard.recording import stored_records

        return await stored_records(self.cluster, self.context, namespace, name)

    async def incident_record(self, incident_id: str,
                              namespace: str | None = None) -> IncidentRecord:
        """One incident record by its id (or the start of one); `NotFound` naming the newest."""
        from turnout.backend.guard.recording import pick_record

        return pick_record(await self.incident_records(namespace), incident_id, self.context)

    @property
    def fire_drills(self) -> bool:
        """Whether this environment can rehearse a failure (`fire_drill`)."""
        return isinstance(self.cluster, FireDrills)

    async def fire_drill(self, name: str, namespace: str | None = None) -> Color:
        """Demo only: make the new color fail so an operator can rehearse a rollback."""
        if not isinstance(self.cluster, FireDrills):
            raise InvalidInput("fire drills run only on the demo environment (turnout demo)")
        return await self.cluster.fire_drill(await self.cluster.get_app(name, namespace))

    async def who(self) -> str:
        """The acting identity: the API server's view of us where it can tell, else ours."""
        return await self.auditor.who()

    async def close(self) -> None:
        """Release the cluster connection and watches."""
        await self.cluster.close()
        close_metrics = getattr(self.metrics, "close", None)
        if close_metrics is not None:
            await close_metrics()
        if self.flags is not None:
            await self.flags.close()
