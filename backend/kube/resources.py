"""The resources Turnout reads, and one-shot lists of them into `Objects`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from turnout.backend.errors import NotFound
from turnout.backend.kube import wire
from turnout.backend.kube.discover import Objects
from turnout.backend.kube.http import Gone, KubeHttp, decode
from turnout.backend.kube.pause import test_pause

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resource:
    """A listable, watchable resource and the lean record its items decode into."""

    field: str
    base: str
    plural: str
    item: type[Any]
    by_app: bool
    """Whether lists for one app can filter on the app label (Services and routers cannot)."""
    optional: bool = False
    """A CRD that may not be installed: 404 on the list means none."""
    selector: str = ""
    """A label selector always applied (Turnout's own Leases among every other Lease)."""

    def path(self, namespace: str | None) -> str:
        """The collection path in `namespace`, or across all namespaces."""
        where = f"/namespaces/{namespace}" if namespace else ""
        return f"{self.base}{where}/{self.plural}"

    @property
    def list_type(self) -> Any:
        """The list type to decode a list response into."""
        return wire.KubeList[self.item]  # type: ignore[name-defined]


MANAGED_SELECTOR = "app.kubernetes.io/managed-by=turnout"
"""Label on the objects Turnout itself manages: release-lock Leases, journal ConfigMaps."""

OWN_RECORDS = ("app.kubernetes.io/managed-by in (turnout,turnout-release),"
               "turnout.dev/record!=history")
"""Turnout's journals and guard reports, and the release flow in flight (not the history)."""

RESOURCES = (
    Resource("deployments", "/apis/apps/v1", "deployments", wire.Deployment, by_app=True),
    Resource("pods", "/api/v1", "pods", wire.Pod, by_app=True),
    Resource("services", "/api/v1", "services", wire.Service, by_app=False),
    Resource("ingresses", "/apis/networking.k8s.io/v1", "ingresses", wire.Ingress, by_app=False),
    Resource("routes", "/apis/gateway.networking.k8s.io/v1", "httproutes", wire.HTTPRoute,
             by_app=False, optional=True),
    Resource("leases", "/apis/coordination.k8s.io/v1", "leases", wire.Lease, by_app=False,
             selector=MANAGED_SELECTOR),
    Resource("journals", "/api/v1", "configmaps", wire.ConfigMap, by_app=False,
             selector=OWN_RECORDS),
)

EVENTS = Resource("events", "/api/v1", "events", wire.Event, by_app=False)
"""Watched by the cache for the TUI's event tail; never part of a one-shot read or a write's
re-read, which would otherwise list a namespace's every Event each time."""
WATCHED = (*RESOURCES, EVENTS)


PAGE = 500
"""Items asked for per list request. 10 000 pods are 30 MB of JSON: read whole, the body,
its decompressed chunks and the decoded records were all alive at once (the TUI's peak
memory); a page at a time, only one page's bytes are."""


async def list_items(http: KubeHttp, resource: Resource, namespace: str | None,
                     params: dict[str, str] | None = None,
                     on_page: Callable[[list[Any]], None] | None = None) -> tuple[list[Any], str]:
    """Every item of `resource` and the list's resourceVersion (to start a watch from), read
    in pages of one consistent snapshot; `on_page` sees each page as it arrives.

    A continue token the server no longer honours (410: the snapshot was compacted away)
    restarts the list from its first page, as client-go's pager does: the caller gets a
    whole list, never the error.
    """
    params = {**(params or {}), "limit": str(PAGE)}
    if resource.selector:
        params["labelSelector"] = resource.selector
    items: list[Any] = []
    while True:
        try:
            body = await http.get(resource.path(namespace), params)
        except NotFound:
            if resource.optional:
                return [], ""
            raise
        except Gone:
            if "continue" not in params:
                raise
            log.info("list %s: continue token expired; listing again", resource.plural)
            del params["continue"]
            items = []
            continue
        listed: wire.KubeList[Any] = decode(body, resource.list_type, f"list {resource.plural}")
        items += listed.items
        if on_page is not None:
            on_page(listed.items)
        if not listed.metadata.continue_:
            return items, listed.metadata.resource_version
        params["continue"] = listed.metadata.continue_
        await test_pause("list-page")


async def list_objects(http: KubeHttp, namespace: str | None, app_selector: str = "") -> Objects:
    """One consistent-enough snapshot: every resource listed concurrently."""
    return (await list_snapshot(http, namespace, app_selector))[0]


async def list_snapshot(http: KubeHttp, namespace: str | None, app_selector: str = ""
                        ) -> tuple[Objects, dict[str, str]]:
    """`list_objects`, and each list's resourceVersion by field (a watch can start there)."""
    async def one(resource: Resource) -> tuple[list[Any], str]:
        params = {"labelSelector": app_selector} if app_selector and resource.by_app else None
        return await list_items(http, resource, namespace, params)

    lists = await asyncio.gather(*(one(r) for r in RESOURCES))
    objects = Objects(**{r.field: tuple(items)
                         for r, (items, _) in zip(RESOURCES, lists, strict=True)})
    return objects, {r.field: rv for r, (_, rv) in zip(RESOURCES, lists, strict=True)}


def encode(obj: object) -> bytes:
    """JSON for a request body."""
    return msgspec.json.encode(obj)
