"""Lean wire records: only the fields Turnout reads, decoded straight from JSON.

The stock client builds a typed model per nested object and took seconds for
10 000 pods; msgspec decodes these Structs from bytes in milliseconds and
skips every field not named here. Every field has a default so a BOOKMARK
watch event (an object with only a resourceVersion) decodes too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec


class Wire(msgspec.Struct, rename="camel", frozen=True, kw_only=True, gc=False):
    """Base of every wire record: Kubernetes spells fields in camelCase."""


class Meta(Wire, frozen=True):
    """ObjectMeta, reduced."""

    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: int = 0
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    deletion_timestamp: datetime | None = None


class Container(Wire, frozen=True):
    """A container of a pod template."""

    name: str = ""
    image: str = ""


class PodSpec(Wire, frozen=True):
    """The parts of a pod spec Turnout shows."""

    containers: list[Container] = []
    node_name: str = ""


class Template(Wire, frozen=True):
    """A Deployment's pod template."""

    metadata: Meta = Meta()
    spec: PodSpec = PodSpec()


class DeploymentSpec(Wire, frozen=True):
    """Desired state of a Deployment."""

    replicas: int = 1
    template: Template = Template()


class DeploymentStatus(Wire, frozen=True):
    """Observed state of a Deployment."""

    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    updated_replicas: int = 0


class Deployment(Wire, frozen=True):
    """apps/v1 Deployment."""

    metadata: Meta = Meta()
    spec: DeploymentSpec = DeploymentSpec()
    status: DeploymentStatus = DeploymentStatus()


class Waiting(Wire, frozen=True):
    """containerStatuses[].state.waiting."""

    reason: str = ""


class Running(Wire, frozen=True):
    """containerStatuses[].state.running."""

    started_at: datetime | None = None


class Terminated(Wire, frozen=True):
    """containerStatuses[].(last)State.terminated."""

    reason: str = ""
    exit_code: int = 0
    finished_at: datetime | None = None


class ContainerState(Wire, frozen=True):
    """One of waiting, running, terminated."""

    waiting: Waiting | None = None
    running: Running | None = None
    terminated: Terminated | None = None


class ContainerStatus(Wire, frozen=True):
    """Observed state of one container."""

    name: str = ""
    ready: bool = False
    restart_count: int = 0
    state: ContainerState = ContainerState()
    last_state: ContainerState = ContainerState()


class Condition(Wire, frozen=True):
    """A status condition."""

    type: str = ""
    status: str = ""


class PodStatus(Wire, frozen=True):
    """Observed state of a pod."""

    phase: str = ""
    start_time: datetime | None = None
    pod_ip: str = msgspec.field(default="", name="podIP")
    conditions: list[Condition] = []
    container_statuses: list[ContainerStatus] = []


class Pod(Wire, frozen=True):
    """v1 Pod."""

    metadata: Meta = Meta()
    spec: PodSpec = PodSpec()
    status: PodStatus = PodStatus()


class ServiceSpec(Wire, frozen=True):
    """The selector is what makes a Service live for one color."""

    selector: dict[str, str] | None = None


class Service(Wire, frozen=True):
    """v1 Service."""

    metadata: Meta = Meta()
    spec: ServiceSpec = ServiceSpec()


class ServiceBackend(Wire, frozen=True):
    """Ingress backend service reference."""

    name: str = ""


class IngressBackend(Wire, frozen=True):
    """Ingress backend."""

    service: ServiceBackend | None = None


class IngressPath(Wire, frozen=True):
    """One path of an Ingress rule."""

    backend: IngressBackend = IngressBackend()


class HttpRule(Wire, frozen=True):
    """Ingress rule http block."""

    paths: list[IngressPath] = []


class IngressRule(Wire, frozen=True):
    """One Ingress rule."""

    http: HttpRule | None = None


class IngressSpec(Wire, frozen=True):
    """Where an Ingress sends requests."""

    default_backend: IngressBackend | None = None
    rules: list[IngressRule] = []


class Ingress(Wire, frozen=True):
    """networking.k8s.io/v1 Ingress."""

    metadata: Meta = Meta()
    spec: IngressSpec = IngressSpec()

    def backends(self) -> set[str]:
        """Names of every Service this Ingress sends requests to."""
        refs = [self.spec.default_backend] if self.spec.default_backend else []
        refs += [p.backend for r in self.spec.rules if r.http for p in r.http.paths]
        return {b.service.name for b in refs if b and b.service}


class RouteSpec(Wire, frozen=True):
    """HTTPRoute rules kept whole: a weight write sends them back unchanged but for weights."""

    rules: list[dict[str, Any]] = []


class HTTPRoute(Wire, frozen=True):
    """gateway.networking.k8s.io/v1 HTTPRoute."""

    metadata: Meta = Meta()
    spec: RouteSpec = RouteSpec()


class ListMeta(Wire, frozen=True):
    """A list's metadata: its resourceVersion starts the watch."""

    resource_version: str = ""
    continue_: str = msgspec.field(default="", name="continue")


T = TypeVar("T")


class KubeList(Wire, Generic[T], frozen=True):
    """Any list response."""

    metadata: ListMeta = ListMeta()
    items: list[T] = []


class WatchEvent(Wire, frozen=True):
    """One line of a watch stream; `object` is decoded by its kind later."""

    type: str = ""
    object: msgspec.Raw = msgspec.Raw(b"{}")


class Status(Wire, frozen=True):
    """meta/v1 Status: an error body, or a watch ERROR event's object."""

    code: int = 0
    reason: str = ""
    message: str = ""
    details: dict[str, Any] = {}


class LeaseSpec(Wire, frozen=True):
    """Who holds a release lock and until when."""

    holder_identity: str = ""
    lease_duration_seconds: int = 0
    acquire_time: datetime | None = None
    renew_time: datetime | None = None
    lease_transitions: int = 0


class Lease(Wire, frozen=True):
    """coordination.k8s.io/v1 Lease: Turnout's per-app release lock."""

    metadata: Meta = Meta()
    spec: LeaseSpec = LeaseSpec()


class ConfigMap(Wire, frozen=True):
    """v1 ConfigMap: holds an app's intent journal."""

    metadata: Meta = Meta()
    data: dict[str, str] = {}


class ObjectRef(Wire, frozen=True):
    """The object an Event is about."""

    kind: str = ""
    name: str = ""


class Event(Wire, frozen=True):
    """core/v1 Event: what the controllers, the kubelet and Turnout said about an object."""

    metadata: Meta = Meta()
    involved_object: ObjectRef = ObjectRef()
    reason: str = ""
    message: str = ""
    type: str = ""
    count: int = 0
    first_timestamp: datetime | None = None
    last_timestamp: datetime | None = None
    event_time: datetime | None = None
