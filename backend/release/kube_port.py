"""The release port on Kubernetes: ConfigMaps beside the app, the Deployment's rollout status.

`turnout-flow-APP` holds the flow in flight (written before and after every
stage, conditional on its resourceVersion); `turnout-history-APP` holds the
capped release history and, in the same write, the app's release totals
(`totals.py`: what the exported counters count). Both are labelled `app.kubernetes.io/managed-by:
turnout-release` so the app discovery, which lists Turnout's own journals on
every read, does not carry the history along.
"""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec

from turnout.backend.errors import Conflict, InvalidInput, NotFound, TurnoutError
from turnout.backend.kube import wire
from turnout.backend.kube.access import require
from turnout.backend.kube.cluster import KubeCluster
from turnout.backend.kube.http import decode
from turnout.backend.kube.lock import me
from turnout.backend.models import App, Color
from turnout.backend.release.model import Flow, Release
from turnout.backend.release.port import HISTORY_CAP, Rollout
from turnout.backend.release.totals import Totals, fold

CONFIGMAPS = "/api/v1/namespaces/{ns}/configmaps"
MANAGED_BY = "turnout-release"
RECORD_LABEL = "turnout.dev/record"
KEY = {"flow": "flow", "history": "history"}
TOTALS_KEY = "totals"


class _Condition(msgspec.Struct, frozen=True):
    type: str = ""
    status: str = ""
    reason: str = ""
    message: str = ""


class _Status(msgspec.Struct, frozen=True, rename="camel"):
    observed_generation: int = 0
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    conditions: list[_Condition] = []


class _Deployment(msgspec.Struct, frozen=True):
    metadata: wire.Meta = wire.Meta()
    spec: wire.DeploymentSpec = wire.DeploymentSpec()
    status: _Status = _Status()


def rollout_of(deployment: _Deployment) -> Rollout:
    """Rollout progress as `kubectl rollout status` judges it."""
    status, desired = deployment.status, deployment.spec.replicas
    stalled = next((f"{c.reason}: {c.message}" for c in status.conditions
                    if c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded"), "")
    done = (status.observed_generation >= deployment.metadata.generation
            and status.updated_replicas == desired and status.replicas == desired
            and status.available_replicas == desired and status.ready_replicas == desired)
    return Rollout(desired=desired, updated=status.updated_replicas, ready=status.ready_replicas,
                   available=status.available_replicas, total=status.replicas, done=done,
                   stalled=stalled)


class KubePort:
    """`ReleasePort` over one `KubeCluster`."""

    def __init__(self, cluster: KubeCluster) -> None:
        self.cluster = cluster
        self.http = cluster.http

    def _path(self, namespace: str, kind: str, app: str) -> str:
        return f"{CONFIGMAPS.format(ns=namespace)}/turnout-{kind}-{app}"

    async def _read(self, namespace: str, kind: str, app: str) -> wire.ConfigMap | None:
        path = self._path(namespace, kind, app)
        try:
            found: wire.ConfigMap = decode(await self.http.get(path), wire.ConfigMap, f"GET {path}")
        except NotFound:
            return None
        return found

    def _body(self, namespace: str, kind: str, app: str, data: bytes, rv: str,
              extra: dict[str, str]) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": f"turnout-{kind}-{app}", "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": MANAGED_BY, RECORD_LABEL: kind,
                       self.cluster.conv(namespace).app_label: app}}
        if rv:
            meta["resourceVersion"] = rv  # a PUT with it is refused (409) if the record moved
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                "data": {KEY[kind]: data.decode(), **extra}}

    async def _put(self, namespace: str, kind: str, app: str, data: bytes, rv: str,
                   extra: dict[str, str] | None = None) -> str:
        body = self._body(namespace, kind, app, data, rv, extra or {})
        if rv:
            reply = await self.http.write("PUT", self._path(namespace, kind, app), body,
                                          content_type="application/json")
        else:
            reply = await self.http.write("POST", CONFIGMAPS.format(ns=namespace), body,
                                          content_type="application/json")
        saved: wire.ConfigMap = decode(reply, wire.ConfigMap, f"write turnout-{kind}-{app}")
        return saved.metadata.resource_version

    async def load_flow(self, namespace: str, app: str) -> Flow | None:
        found = await self._read(namespace, "flow", app)
        if found is None:
            return None
        try:
            flow = msgspec.json.decode(found.data.get("flow", ""), type=Flow)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            raise InvalidInput(f"{namespace}/turnout-flow-{app} is unreadable ({err}); inspect "
                               "it with kubectl and delete it to start over") from err
        return msgspec.structs.replace(flow, revision=found.metadata.resource_version)

    async def create_flow(self, flow: Flow) -> Flow:
        try:
            rv = await self._put(flow.namespace, "flow", flow.app, msgspec.json.encode(flow), "")
        except Conflict as err:  # 409 AlreadyExists: another deploy started first
            raise Conflict(f"a deploy of {flow.namespace}/{flow.app} is already in progress") from err
        return msgspec.structs.replace(flow, revision=rv)

    async def save_flow(self, flow: Flow) -> Flow:
        rv = await self._put(flow.namespace, "flow", flow.app, msgspec.json.encode(flow),
                             flow.revision)
        return msgspec.structs.replace(flow, revision=rv)

    async def clear_flow(self, flow: Flow) -> None:
        with contextlib.suppress(NotFound):
            await self.http.write("DELETE", self._path(flow.namespace, "flow", flow.app), {},
                                  content_type="application/json")

    async def history(self, namespace: str | None, app: str | None) -> tuple[Release, ...]:
        if namespace is not None and app is not None:
            found = await self._read(namespace, "history", app)
            maps = [found] if found else []
        else:
            maps = [m for m in await self._histories(namespace) if app in (None, _app_of(m))]
        releases = [r for m in maps for r in _releases(m)]
        return tuple(sorted(releases, key=lambda r: r.finished_at))

    async def record(self, release: Release) -> None:
        # Appending is safe to retry: a conflict means another record landed; re-read and add.
        for attempt in range(5):
            found = await self._read(release.namespace, "history", release.app)
            past = _releases(found) if found else []
            if any(r.id == release.id for r in past):
                return  # recorded already, by a run that stopped before clearing its flow
            kept = [*past, release][-HISTORY_CAP:]
            totals = _totals(found) if found else None
            counted = (totals or fold(release.namespace, release.app, past)).add(release)
            try:
                await self._put(release.namespace, "history", release.app,
                                msgspec.json.encode(kept), found.metadata.resource_version if found else "",
                                {TOTALS_KEY: msgspec.json.encode(counted).decode()})
                return
            except Conflict:
                if attempt == 4:
                    raise

    async def totals(self, namespace: str | None) -> tuple[Totals, ...]:
        maps = await self._histories(namespace)
        return tuple(_totals(m) or fold(m.metadata.namespace, _app_of(m), _releases(m)) for m in maps)

    async def _histories(self, namespace: str | None) -> list[wire.ConfigMap]:
        where = f"/namespaces/{namespace}" if namespace else ""
        body = await self.http.get(f"/api/v1{where}/configmaps", {"labelSelector": f"{RECORD_LABEL}=history"})
        listed: wire.KubeList[wire.ConfigMap] = decode(body, wire.KubeList[wire.ConfigMap],
                                                       "list release histories")
        return listed.items

    async def rollout(self, app: App, color: Color) -> Rollout:
        conv = self.cluster.conv(app.namespace)
        selector = f"{conv.app_label}={app.name},{conv.color_label}={conv.value(color)}"
        body = await self.http.get(f"/apis/apps/v1/namespaces/{app.namespace}/deployments",
                                   {"labelSelector": selector})
        listed: wire.KubeList[_Deployment] = decode(body, wire.KubeList[_Deployment], "deployments")
        if not listed.items:
            raise NotFound(f"{app.namespace}/{app.name} has no {color} Deployment")
        return rollout_of(listed.items[0])

    async def preflight(self, app: App, canary: bool) -> None:
        if canary and app.traffic.router == "service":
            raise InvalidInput(f"{app.name} has no canary router (NGINX canary Ingress or HTTPRoute):"
                               " deploy it with --strategy instant")
        router = {"nginx": "ingress", "gateway": "route"}.get(app.traffic.router)
        needs = {("patch", "deployment"), ("patch", "service"), ("create", "configmap"),
                 ("update", "configmap"), ("delete", "configmap"), ("create", "lease"),
                 ("update", "lease")}
        await require(self.http, app.namespace, needs | ({("patch", router)} if router else set()))

    async def acquire(self, app: App) -> bool:
        held = app.lock_holder == me()
        await self.cluster.lock(app.name, app.namespace)
        return not held

    async def unlock(self, app: App) -> None:
        with contextlib.suppress(NotFound):
            await self.cluster.unlock(app.name, app.namespace)

    async def converge(self, app: App) -> None:
        await self.cluster.resume(app.name, app.namespace)

    async def note(self, app: App, reason: str, message: str) -> None:
        try:
            await self.cluster.recorder.event(app, reason, message, self.cluster.clock())
        except TurnoutError:  # the Recorder logs its own failures; a note is never fatal
            return


def _releases(config_map: wire.ConfigMap) -> list[Release]:
    try:
        return msgspec.json.decode(config_map.data.get("history", "[]"), type=list[Release])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return []  # an unreadable history never blocks a deploy; it restarts empty


def _app_of(config_map: wire.ConfigMap) -> str:
    return config_map.metadata.name.removeprefix("turnout-history-")


def _totals(config_map: wire.ConfigMap) -> Totals | None:
    """The totals kept with the history; None when absent (an older history) or unreadable."""
    raw = config_map.data.get(TOTALS_KEY, "")
    try:
        return msgspec.json.decode(raw, type=Totals) if raw else None
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
