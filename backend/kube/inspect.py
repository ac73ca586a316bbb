"""The read side of a cluster beyond the apps themselves: events, pods in depth, logs,
RBAC for greying actions out, and the service proxy the guard's checks go through.
`KubeCluster` owns one `KubeInspection` and answers these reads through it."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable

import httpx

from turnout.backend.config import Conventions
from turnout.backend.errors import InvalidInput, NotFound, TurnoutError
from turnout.backend.guard.ports import PROXY_SCHEME
from turnout.backend.kube import wire
from turnout.backend.kube.access import denied
from turnout.backend.kube.describe import log_container, pod_detail
from turnout.backend.kube.discover import Objects
from turnout.backend.kube.events import app_events
from turnout.backend.kube.http import KubeHttp, decode
from turnout.backend.kube.informer import Informer
from turnout.backend.kube.lock import me
from turnout.backend.kube.logs import color_log_lines, pod_tail
from turnout.backend.kube.resources import EVENTS, list_items
from turnout.backend.models import App, ClusterEvent, Color, Pod, PodDetail

PROXY_REF = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(:[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?)?")
"""A Service name and optional port (name or number): nothing that could leave the proxy path."""
ROUTER_KINDS = {"nginx": ("ingress",), "gateway": ("route",)}
"""The objects a traffic change patches besides the live Service, by router."""
ACCESS_TTL = 60.0
"""Seconds an RBAC answer is reused for greying out actions (writes still ask afresh)."""
log = logging.getLogger(__name__)


ObjectsOf = Callable[[str | None, str], Awaitable[Objects]]
"""Where an app's objects are read: the watch cache when it serves the namespace, else lists."""


class KubeInspection:
    """Reads about an app's objects through the cluster's client, cache and conventions."""

    def __init__(self, http: KubeHttp, conventions: Conventions, informer: Informer,
                 objects: ObjectsOf, by_namespace: dict[str, Conventions] | None = None) -> None:
        self.http = http
        self.conventions = conventions
        self.by_namespace = by_namespace if by_namespace is not None else {}
        """Conventions of namespaces with their own (shared with the owning cluster)."""
        self.informer = informer
        self._objects = objects
        self._access: dict[tuple[str, str], tuple[float, str]] = {}

    async def events(self, app: App, limit: int = 20) -> tuple[ClusterEvent, ...]:
        """The latest events about `app`: from the watch cache, else one list of its namespace."""
        return await self._events_in(await self._objects(app.namespace, app.name), app, limit)

    async def _events_in(self, objects: Objects, app: App, limit: int) -> tuple[ClusterEvent, ...]:
        events = objects.events
        if not self.informer.serves(app.namespace) or not self.informer.synced["events"]:
            events, _ = await list_items(self.http, EVENTS, app.namespace)
        return app_events(events, objects, app,
                          self.by_namespace.get(app.namespace, self.conventions), limit)

    async def write_blocker(self, app: App) -> str:
        """Someone else's lock, or what RBAC refuses for this app's traffic objects (asked once a
        minute per namespace and kind, so a screen can ask on every refresh)."""
        if app.lock_holder and app.lock_holder != me():
            return f"locked by {app.lock_holder}"
        kinds = ["service", *ROUTER_KINDS.get(app.traffic.router, ())]
        reasons = [await self._denied_cached(app.namespace, kind) for kind in kinds]
        return "; ".join(r for r in reasons if r)

    async def _denied_cached(self, namespace: str, kind: str) -> str:
        key = (namespace, kind)
        cached = self._access.get(key)
        if cached is not None and time.monotonic() - cached[0] < ACCESS_TTL:
            return cached[1]
        reason = await denied(self.http, namespace, "patch", kind)
        self._access[key] = (time.monotonic(), reason)
        return reason

    def service_proxy(self, app: App, endpoint: str) -> tuple[httpx.AsyncClient, str]:
        """The API server's client and the proxy path of `kube://SERVICE[:PORT]` in the app's
        namespace: the guard reaches pods it has no route to, with the API server's auth."""
        ref = endpoint.removeprefix(PROXY_SCHEME)
        if not PROXY_REF.fullmatch(ref):
            raise InvalidInput(f"endpoint {endpoint!r}: expected {PROXY_SCHEME}SERVICE or "
                               f"{PROXY_SCHEME}SERVICE:PORT")
        return self.http.client, f"/api/v1/namespaces/{app.namespace}/services/{ref}/proxy"

    async def log_lines(self, app: App, color: Color, limit: int = 100) -> list[str]:
        """Up to `limit` most recent lines across `color`'s pods, each made inert.

        The pods are those of `app` as read; one that is gone since is skipped.
        """
        return await color_log_lines(self.http, app.namespace, app.slot(color).pods, limit)

    async def pod_detail(self, app: App, pod: Pod, log_lines: int = 20) -> PodDetail:
        """`pod` as described by the API server now, its events and its log tail."""
        objects = await self._objects(app.namespace, app.name)
        raw = next((p for p in objects.pods if p.metadata.name == pod.name), None)
        if raw is None:  # the cache may lag a moment behind the app record: ask once
            try:
                path = f"/api/v1/namespaces/{app.namespace}/pods/{pod.name}"
                raw = decode(await self.http.get(path), wire.Pod, f"pod {pod.name}")
            except NotFound:
                raise NotFound(f"pod {app.namespace}/{pod.name} is gone") from None
        try:
            events = await self._events_in(objects, app, limit=1000)
        except TurnoutError as err:  # a role without events: the pod is still worth showing
            log.info("events of %s/%s unreadable: %s", app.namespace, app.name, err)
            events = ()
        logs: list[str] = []
        note = ""
        container = log_container(raw)
        if log_lines == 0:
            note = "not asked for"
        elif not raw.spec.node_name or raw.status.phase in ("", "Pending"):
            note = "no log yet: the pod has not started"
        else:
            try:
                logs = await pod_tail(self.http, app.namespace, pod.name, log_lines, container)
            except TurnoutError as err:  # RBAC without pods/log, a kubelet that does not answer
                note = err.message
        return pod_detail(raw, pod, app.name, app.namespace, events, logs, note, container)
