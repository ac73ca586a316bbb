"""`KubeCluster`: the `ClusterPort` over a real API server.

Reads come from the watch cache when it is running and in sync, else from
one-shot lists (never from a cache that may be stale). Every write is a
conditional merge patch carrying the resourceVersion of a fresh read that was
checked against what the operator saw: if the app changed in between, or the
server answers 409, the operator gets `Conflict` with the difference, never a
silent retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from turnout.backend.checklist import Manifests
from turnout.backend.config import Conventions
from turnout.backend.errors import Conflict, InvalidInput, NotFound, TurnoutError
from turnout.backend.guard.ports import LeaseRecord
from turnout.backend.kube import wire
from turnout.backend.kube.access import require
from turnout.backend.kube.autoscale import HpaScaling
from turnout.backend.kube.conditional import ConditionalWrites
from turnout.backend.kube.discover import (
    Objects,
    PodsOf,
    by_namespace,
    discover,
    slot_record,
)
from turnout.backend.kube.effective import read_routing
from turnout.backend.kube.guard_records import MERGE, KubeGuardRecords
from turnout.backend.kube.guarded import Guard, WatchedSet
from turnout.backend.kube.http import KubeHttp, decode
from turnout.backend.kube.informer import Informer
from turnout.backend.kube.inspect import KubeInspection
from turnout.backend.kube.journal import Entry, Journal
from turnout.backend.kube.lock import acquire, check_unlocked, holder_of, release
from turnout.backend.kube.manifests import read_manifests
from turnout.backend.kube.record import Recorder
from turnout.backend.kube.resources import list_objects, list_snapshot
from turnout.backend.kube.routing import Write, color_of, routing_objects, traffic_writes
from turnout.backend.models import (
    App,
    AuditEntry,
    ClusterEvent,
    Color,
    GuardReport,
    Pod,
    PodDetail,
    Slot,
    Traffic,
)
from turnout.backend.scaling import ScalePlan
from turnout.backend.unfinished import refuse_unfinished

if TYPE_CHECKING:
    from turnout.backend.guard.recording import IncidentRecord

STRATEGIC = "application/strategic-merge-patch+json"


def _now() -> datetime:
    return datetime.now(UTC)


STATUS_RETRIES = 5
"""Times a Deployment write is made again after the controller's own status write moved its
resourceVersion (the spec generation and what the operator saw unchanged)."""


class KubeCluster:
    """Blue/green apps in one kube context, read by the conventions.

    It reads and writes the apps itself; the reads beside them (events, pods in depth, logs,
    RBAC) are its `inspection`'s, the records it keeps for the guard and the audit trail its
    `records`'. The methods below that only pass a call on keep one object per context for
    the ports (`EventSource`, `PodInspector`, the guard's stores).
    """

    def __init__(self, http: KubeHttp, context: str, conventions: Conventions, *,
                 namespace: str | None = None, clock: Callable[[], datetime] = _now,
                 by_namespace: Mapping[str, Conventions] | None = None) -> None:
        self.http = http
        self.conventions = conventions
        """The conventions of every namespace without its own (`by_namespace`)."""
        self.by_namespace = dict(by_namespace or {})
        self.scope = namespace
        """Namespace the watch cache covers; None for every namespace."""
        self.clock = clock
        self.informer = Informer(http, conventions, namespace, by_namespace=self.by_namespace)
        self.recorder = Recorder(http, lambda app: self.conv(app.namespace).live_name(app.name))
        self._context = context
        self.inspection = KubeInspection(http, conventions, self.informer, self._objects,
                                         self.by_namespace)
        self.records = KubeGuardRecords(http, conventions, self.recorder, clock, self.by_namespace)
        self.writes = ConditionalWrites(http, self.conv, self._discover, self.get_app, clock)
        """Every write of this context: re-read, checked, sent in order, stopped at a surprise."""
        self.autoscaling = HpaScaling(http, self.conv, self.recorder, clock, context,
                                      fresh=self.writes.fresh, apply=self.writes.apply)

    @property
    def context(self) -> str:
        return self._context

    def conv(self, namespace: str) -> Conventions:
        """How apps are recognised in `namespace` (its own conventions, else the global ones)."""
        return self.by_namespace.get(namespace, self.conventions)

    # --- reads ---------------------------------------------------------------

    async def _objects(self, namespace: str | None, app: str = "") -> Objects:
        if self.informer.serves(namespace):
            return self.informer.objects(namespace)
        # An app label filters the list only where one label names apps everywhere asked.
        labels = {self.conv(namespace).app_label} if namespace else {
            self.conventions.app_label, *(c.app_label for c in self.by_namespace.values())}
        selector = f"{labels.pop()}={app}" if app and len(labels) == 1 else ""
        if selector or namespace != self.scope:
            return await list_objects(self.http, namespace, selector)
        objects, versions = await list_snapshot(self.http, namespace)
        self.informer.prime(objects, versions)
        return objects

    def _discover(self, objects: Objects, *, pods_loading: bool = False,
                  pods_of: PodsOf | None = None) -> tuple[App, ...]:
        if not self.by_namespace:
            return discover(objects, self.conventions, self._context, self.clock(),
                            self.informer.restart_history, self.informer.pod_records,
                            pods_loading=pods_loading, pods_of=pods_of)
        found: list[App] = []
        for ns, part in by_namespace(objects, set(self.by_namespace)):
            found += discover(part, self.conv(ns) if ns else self.conventions, self._context,
                              self.clock(), self.informer.restart_history,
                              self.informer.pod_records, pods_loading=pods_loading,
                              pods_of=pods_of)
        return tuple(sorted(found, key=lambda a: (a.namespace, a.name)))

    def _cached(self, namespace: str | None, *, pods_loading: bool = False) -> tuple[App, ...]:
        """The apps from the watch cache, each color's pods from its per-event groups."""
        now, histories = self.clock(), self.informer.restart_history
        groups = self.informer.pod_groups
        return self._discover(self.informer.objects(namespace, pods=False),
                              pods_loading=pods_loading,
                              pods_of=lambda group: groups.pods(group, now, histories))

    async def list_apps(self, namespace: str | None) -> tuple[App, ...]:
        """Every app; while the watch cache's first lists are under way, as soon as all but
        the pods are in, with the pods listed so far (each slot `pods_loading`): the apps,
        their live color and weights need not wait for 10 000 pods."""
        if self.informer.first_listing(namespace):
            with contextlib.suppress(TimeoutError):
                await self.informer.wait_synced(self.http.timeout, but=frozenset({"pods"}))
            if self.informer.serves_loading_pods(namespace):
                return self._cached(namespace, pods_loading=True)
        if self.informer.serves(namespace):
            return self._cached(namespace)
        return self._discover(await self._objects(namespace))

    async def get_app(self, name: str, namespace: str | None) -> App:
        apps = self._cached(namespace) if self.informer.serves(namespace) else \
            self._discover(await self._objects(namespace, name))
        found = [a for a in apps if a.name == name]
        if not found:
            where = f" in namespace {namespace}" if namespace else ""
            raise NotFound(f"app {name!r} not found{where} (context {self._context})")
        if len(found) > 1:
            spaces = ", ".join(a.namespace for a in found)
            raise InvalidInput(f"app {name!r} exists in several namespaces ({spaces}): pass -n")
        if self.informer.serves(namespace):
            return found[0]
        # One app read once: its lock is the Lease by name, even one another tool wrote.
        holder = await holder_of(self.http, found[0].namespace, name, self.clock())
        return msgspec.structs.replace(found[0], lock_holder=holder)

    def changes(self) -> AsyncIterator[tuple[str, str]]:
        return self.informer.changes()

    # --- writes --------------------------------------------------------------

    async def write_traffic(self, app: App, target: Traffic, *, dry_run: bool) -> Traffic:
        fresh, objects = await self.writes.fresh(app)
        refuse_unfinished(fresh, "change the traffic of")
        writes = await self._converge(fresh, objects, target, dry_run)
        if dry_run:
            return Traffic(live=target.live, weights=target.weights, router=fresh.traffic.router,
                           plan=fresh.traffic.plan, revision=fresh.traffic.revision)
        if writes:
            await self._traffic_event(fresh.traffic, target, fresh)
        produced = await self._produced(fresh, target)
        if produced.live != fresh.traffic.live:
            await self.autoscaling.give_back_bounds(fresh, produced.live)
        return produced

    async def _produced(self, app: App, target: Traffic) -> Traffic:
        """The traffic now, read from the server; `Conflict` unless it is `target`."""
        now = await self.writes.routing_read(app)
        if now is None:
            raise Conflict(f"{app.namespace}/{app.name} changed by someone else: its live "
                           "Service selects no color any more")
        traffic = now.traffic
        if (traffic.live, traffic.weights) != (target.live, target.weights):
            said = "; ".join([*now.conflicts, *now.says])
            raise Conflict(f"{app.namespace}/{app.name} changed by someone else: the writes were "
                           f"made but the objects now say live {traffic.live} "
                           f"{traffic.weights.blue}/{traffic.weights.green}, not live "
                           f"{target.live} {target.weights.blue}/{target.weights.green} ({said})")
        return traffic

    async def _converge(self, app: App, objects: Objects, target: Traffic, dry_run: bool,
                        resuming: Entry | None = None) -> list[Write]:
        """Write what differs from `target`, the routing objects guarded as a whole and the
        change journaled when more than one object changes."""
        routing = routing_objects(objects)
        conv = self.conv(app.namespace)
        read = read_routing(app.name, routing, conv)
        writes = traffic_writes(app.name, routing, target, conv)
        steps = [f"{w.kind}/{w.name}" for w in writes]
        journal = Journal(self.http, app, conv)
        journaled = not dry_run and (len(writes) > 1 or resuming is not None)
        needs = {("patch", w.kind) for w in writes}
        needs |= {(v, "configmap") for v in ("create", "update", "delete")} if journaled else set()
        if needs and not dry_run:  # a dry run shows RBAC errors from the server itself
            await require(self.http, app.namespace, needs)
        if journaled and resuming is not None:
            await journal.resume(resuming, steps)
        elif journaled:
            await journal.begin("traffic", await self.recorder.identity(), self.clock(),
                                app.traffic, target, steps)
        guard = None if dry_run or read is None else Guard(
            WatchedSet(self.http, app.namespace, read.revisions), read.says,
            journal.entry.id if journal.entry else "")
        try:
            await self.writes.apply(app, writes, dry_run, on_step=journal.advance if journaled else None,
                              guard=guard)
        except TurnoutError:
            if journaled and resuming is None and journal.entry and journal.entry.step == 0:
                await journal.abandon()  # nothing was written: nothing to resume or undo
            raise
        if journaled:
            await journal.finish()
        return writes

    async def _traffic_event(self, before: Traffic, after: Traffic, app: App) -> None:
        b, a = before.weights, after.weights
        await self.recorder.event(app, "TurnoutTraffic", f"traffic live {before.live} -> "
                                  f"{after.live}, blue/green {b.blue}/{b.green} -> "
                                  f"{a.blue}/{a.green}", self.clock())

    async def resume(self, name: str, namespace: str | None, *,
                     back: bool = False) -> Traffic | None:
        """Finish an interrupted operation (or with `back` undo it); None when there is none."""
        found = await self.get_app(name, namespace)
        selector = f"{self.conv(found.namespace).app_label}={name}"
        objects = await list_objects(self.http, found.namespace, selector)
        app = next(a for a in self._discover(objects) if a.name == name)
        check_unlocked(await holder_of(self.http, app.namespace, name, self.clock()), name)
        entry = await Journal(self.http, app, self.conv(app.namespace)).read()
        if entry is None:
            return None
        goal = (entry.before if back else entry.target).traffic(app.traffic)
        await self._converge(app, objects, goal, False, resuming=entry)
        await self._traffic_event(app.traffic, goal, app)
        produced = await self._produced(app, goal)
        # The interrupted change may have switched the live Service already: whichever color
        # is live now gets its HPA's own bounds back, as after any switch.
        await self.autoscaling.give_back_bounds(app, produced.live)
        return produced

    async def _slot_write(self, app: App, color: Color, dry_run: bool,
                          spec_for: Callable[[wire.Deployment], dict[str, Any]],
                          content_type: str = MERGE) -> Slot:
        generation: int | None = None
        for attempt in range(STATUS_RETRIES + 1):
            fresh, objects = await self.writes.fresh(app)
            deployment = next((d for d in objects.deployments
                               if color_of(d.metadata.labels, self.conv(app.namespace)) == color),
                              None)
            if deployment is None:
                raise NotFound(f"{app.namespace}/{app.name} has no {color} Deployment")
            if generation is not None and deployment.metadata.generation != generation:
                raise Conflict(f"{app.namespace}/{app.name} changed by someone else: the spec of "
                               f"deployment/{deployment.metadata.name} was changed while writing. "
                               "Nothing was written; re-read and retry")
            generation = deployment.metadata.generation
            spec = spec_for(deployment)
            meta = {"resourceVersion": deployment.metadata.resource_version,
                    **spec.pop("metadata", {})}
            write = Write("deployment", app.namespace, deployment.metadata.name,
                          {"metadata": meta, **spec})
            if not dry_run:
                await require(self.http, app.namespace, {("patch", "deployment")})
            try:
                body = (await self.writes.apply(app, [write], dry_run, content_type))[0]
                break
            except Conflict:
                # The Deployment controller rewrites status (and so the resourceVersion) as
                # pods come and go. A refusal whose re-read shows the same spec generation and
                # nothing the operator saw changed (`_fresh`) was such a status write: the
                # write is made again on the new resourceVersion, as kubectl retries on conflict.
                if attempt == STATUS_RETRIES:
                    raise
        updated = decode(body, wire.Deployment, f"patch {write.path}")
        record = slot_record(color, updated, fresh.slot(color).pods)
        if not dry_run:
            old = fresh.slot(color)
            await self.recorder.event(app, "TurnoutSlot", f"{color}: replicas {old.desired} -> "
                                      f"{record.desired}, image {old.image} -> {record.image}",
                                      self.clock())
        return record

    async def scale(self, app: App, color: Color, replicas: int, *, dry_run: bool) -> Slot:
        """Set the color's replicas; under an HPA, through its bounds (`backend/scaling.py`)."""
        return await self._scale(app, color, replicas, dry_run=dry_run, restore=False)

    async def scale_back(self, app: App, color: Color, replicas: int, *, dry_run: bool) -> Slot:
        """Put the color back to `replicas`, its HPA (if any) back to its own bounds."""
        return await self._scale(app, color, replicas, dry_run=dry_run, restore=True)

    async def _scale(self, app: App, color: Color, replicas: int, *, dry_run: bool,
                     restore: bool) -> Slot:
        p = await self.scale_plan(app, color, replicas, restore=restore)
        if not p.hpa:
            return await self._slot_write(app, color, dry_run,
                                          lambda _: {"spec": {"replicas": replicas}})
        return await self.autoscaling.scale(app, color, p, dry_run)

    async def scale_plan(self, app: App, color: Color, replicas: int, *,
                         restore: bool = False) -> ScalePlan:
        """What scaling `color` to `replicas` will do, the HPA governing it considered."""
        return await self.autoscaling.plan(app, color, replicas, restore=restore)

    async def set_image(self, app: App, color: Color, image: str, *, dry_run: bool) -> Slot:
        return await self._slot_write(app, color, dry_run, lambda d: image_patch(d, image),
                                      STRATEGIC)

    # --- release lock --------------------------------------------------------

    async def lock(self, name: str, namespace: str | None, *, force: bool = False) -> str:
        """Take or renew the app's release lock; return a previous holder taken over."""
        app = await self.get_app(name, namespace)
        previous = await acquire(self.http, app.namespace, app.name, self.conv(app.namespace),
                                 self.clock(), force=force)
        if previous:
            await self.recorder.event(app, "TurnoutLockTakenOver",
                                      f"lock taken over from {previous}", self.clock())
        return previous

    async def unlock(self, name: str, namespace: str | None, *, force: bool = False) -> str:
        """Release the app's lock; return who held it."""
        app = await self.get_app(name, namespace)
        return await release(self.http, app.namespace, app.name, self.clock(), force=force)

    async def manifests(self, app: App) -> Manifests:
        """The app's objects whole, for the checklist (`kube/manifests.py`)."""
        return await read_manifests(self.http, app, self.conv(app.namespace))

    # --- inspection and records (see `inspect.py`, `guard_records.py`) ---------

    async def events(self, app: App, limit: int = 20) -> tuple[ClusterEvent, ...]:
        """The latest events about `app`, oldest first."""
        return await self.inspection.events(app, limit)

    async def pod_detail(self, app: App, pod: Pod, log_lines: int = 20) -> PodDetail:
        """`pod` as described by the API server now, its events and its log tail."""
        return await self.inspection.pod_detail(app, pod, log_lines)

    async def log_lines(self, app: App, color: Color, limit: int = 100) -> list[str]:
        """Up to `limit` most recent lines across `color`'s pods, each made inert."""
        return await self.inspection.log_lines(app, color, limit)

    async def write_blocker(self, app: App) -> str:
        """Someone else's lock, or what RBAC refuses for this app's traffic objects."""
        return await self.inspection.write_blocker(app)

    def service_proxy(self, app: App, endpoint: str) -> tuple[httpx.AsyncClient, str]:
        """The API server's client and the proxy path of a `kube://` endpoint."""
        return self.inspection.service_proxy(app, endpoint)

    async def read_lease(self, namespace: str, name: str) -> LeaseRecord | None:
        """The guard replicas' leader Lease, or None."""
        return await self.records.read_lease(namespace, name)

    async def write_lease(self, namespace: str, name: str, record: LeaseRecord) -> LeaseRecord:
        """Create or conditionally replace the leader Lease."""
        return await self.records.write_lease(namespace, name, record)

    async def set_guard_state(self, app: App, state: str) -> None:
        """Record the guard's state on the live Service."""
        await self.records.set_guard_state(app, state)

    async def publish_guard_report(self, app: App, report: GuardReport) -> None:
        """The guard's latest verdicts in a ConfigMap beside the app."""
        await self.records.publish_guard_report(app, report)

    async def record_audit(self, app: App, entry: AuditEntry) -> None:
        """The audit record as an Event on the app."""
        await self.records.record_audit(app, entry)

    async def record_incident(self, app: App, summary: str) -> None:
        """An incident as a Kubernetes Event on the app."""
        await self.records.record_incident(app, summary)

    async def save_incident(self, app: App, record: IncidentRecord) -> IncidentRecord:
        """The incident's report and recording in a ConfigMap beside the app."""
        return await self.records.save_incident(app, record)

    async def incident_records(self, namespace: str | None) -> tuple[IncidentRecord, ...]:
        """The incident records kept in the cluster (of a namespace), oldest first."""
        return await self.records.incident_records(namespace)

    async def identity(self) -> str:
        """Who the API server says we are (SelfSubjectReview)."""
        return await self.recorder.identity()

    async def close(self) -> None:
        await self.informer.close()
        await self.http.close()


VERSION_LABEL = "app.kubernetes.io/version"


def image_patch(deployment: wire.Deployment, image: str) -> dict[str, Any]:
    """A strategic merge patch setting the first container's image, and the version label
    where the Deployment and its template already carry one: a label added to a template
    Turnout does not own would start a rollout its owner (Helm, Argo CD) did not ask for."""
    containers = deployment.spec.template.spec.containers
    if not containers:
        raise NotFound(f"deployment {deployment.metadata.name} has no container")
    version = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else image
    labels = {VERSION_LABEL: version}
    template: dict[str, Any] = {"spec": {"containers": [{"name": containers[0].name,
                                                         "image": image}]}}
    if VERSION_LABEL in deployment.spec.template.metadata.labels:
        template["metadata"] = {"labels": labels}
    patch: dict[str, Any] = {"spec": {"template": template}}
    if VERSION_LABEL in deployment.metadata.labels:
        patch["metadata"] = {"labels": labels}
    return patch
