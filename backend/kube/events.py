"""Which Kubernetes Events are about an app, as domain records.

Events carry no labels, only the object they are about, so an app's events are
those whose object is one of the app's: its Services, its routers, its
Deployments, their ReplicaSets (named after the Deployment) and its pods. The
app name alone is not enough: `shop-` would also match an app `shop-api`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from turnout.backend.config import Conventions
from turnout.backend.kube import wire
from turnout.backend.kube.discover import Objects
from turnout.backend.kube.informer import app_of
from turnout.backend.models import App, ClusterEvent
from turnout.backend.sanitize import inert

_EPOCH = datetime.min.replace(tzinfo=UTC)


def _names(objects: Objects, app: App, conv: Conventions) -> tuple[set[str], tuple[str, ...]]:
    """The app's object names, and its Deployments' names (ReplicaSet prefixes)."""
    def labelled(meta: wire.Meta) -> bool:
        return meta.namespace == app.namespace and meta.labels.get(conv.app_label) == app.name

    deployments = tuple(d.metadata.name for d in objects.deployments if labelled(d.metadata))
    names = {*deployments, conv.live_name(app.name), conv.preview_name(app.name)}
    names |= {p.metadata.name for p in objects.pods if labelled(p.metadata)}
    others: list[wire.Service | wire.Ingress | wire.HTTPRoute] = [
        *objects.services, *objects.ingresses, *objects.routes]
    for other in others:
        if other.metadata.namespace == app.namespace and app_of(other, conv) == app.name:
            names.add(other.metadata.name)
    return names, deployments


def _when(event: wire.Event) -> datetime | None:
    return event.last_timestamp or event.event_time or event.first_timestamp


def app_events(events: Iterable[wire.Event], objects: Objects, app: App, conv: Conventions,
               limit: int = 20) -> tuple[ClusterEvent, ...]:
    """The latest `limit` events about `app`, oldest first; their text made inert."""
    names, deployments = _names(objects, app, conv)

    def about_app(event: wire.Event) -> bool:
        ref = event.involved_object
        if ref.name in names:
            return True
        return ref.kind == "ReplicaSet" and ref.name.rpartition("-")[0] in deployments

    found = [e for e in events if e.metadata.namespace == app.namespace and about_app(e)]
    found.sort(key=lambda e: _when(e) or _EPOCH)
    return tuple(
        ClusterEvent(at=_when(e), type=inert(e.type or "Normal", single_line=True),
                     reason=inert(e.reason, single_line=True),
                     object=inert(f"{e.involved_object.kind}/{e.involved_object.name}", single_line=True),
                     message=inert(e.message, single_line=True)[:500], count=max(e.count, 1))
        for e in found[-limit:])
