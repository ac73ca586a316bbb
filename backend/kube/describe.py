"""One pod in depth, as `kubectl describe pod` shows it, reduced to what an operator reads.

Labels, annotations, reasons and image names are written by whoever deployed the pod:
every string is made inert here, and long annotation values (a last-applied manifest)
are cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from turnout.backend.kube import wire
from turnout.backend.models import ClusterEvent, ContainerDetail, Pod, PodDetail
from turnout.backend.sanitize import inert

VALUE_CHARS = 300
"""Characters kept of one label or annotation value."""
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"
"""The annotation kubectl reads to pick a container for `logs` and `exec`."""


def log_container(raw: wire.Pod) -> str:
    """The container whose log to show: the annotated default, else the first one. The API
    server refuses a log request without one for a pod with sidecars."""
    names = [c.name for c in raw.spec.containers]
    chosen = raw.metadata.annotations.get(DEFAULT_CONTAINER, "")
    return chosen if chosen in names else (names[0] if names else "")


def _pairs(values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    def cut(text: str) -> str:
        text = inert(text, single_line=True)
        return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "…"
    return tuple(sorted((cut(k), cut(v)) for k, v in values.items()))


def _state(state: wire.ContainerState) -> tuple[str, str]:
    if state.waiting is not None:
        return "waiting", state.waiting.reason
    if state.terminated is not None:
        return "terminated", state.terminated.reason
    if state.running is not None:
        return "running", ""
    return "unknown", ""


def container_details(raw: wire.Pod) -> tuple[ContainerDetail, ...]:
    """The pod's containers in spec order, with their status when the kubelet gave one."""
    statuses = {c.name: c for c in raw.status.container_statuses}
    found = []
    for spec in raw.spec.containers:
        status = statuses.get(spec.name, wire.ContainerStatus(name=spec.name))
        state, reason = _state(status.state)
        last = status.last_state.terminated
        found.append(ContainerDetail(
            name=inert(spec.name, single_line=True), image=inert(spec.image, single_line=True),
            ready=status.ready, restarts=status.restart_count, state=state,
            reason=inert(reason, single_line=True),
            last_reason=inert(last.reason, single_line=True) if last else "",
            last_exit_code=last.exit_code if last else None))
    return tuple(found)


def pod_detail(raw: wire.Pod, pod: Pod, app: str, namespace: str, events: Iterable[ClusterEvent],
               logs: Iterable[str], logs_note: str = "", container: str = "") -> PodDetail:
    """The record for `raw` (already-inert events and log lines are passed in)."""
    about = f"Pod/{pod.name}"

    def clean(text: str) -> str:
        return inert(text, single_line=True)

    return PodDetail(
        app=app, namespace=namespace,
        pod=msgspec.structs.replace(pod, name=clean(pod.name), phase=clean(pod.phase),
                                    waiting_reason=clean(pod.waiting_reason), node=clean(pod.node)),
        ip=clean(raw.status.pod_ip), labels=_pairs(raw.metadata.labels),
        annotations=_pairs(raw.metadata.annotations), containers=container_details(raw),
        conditions=tuple((clean(c.type), clean(c.status)) for c in raw.status.conditions),
        events=tuple(e for e in events if e.object == about), logs=tuple(logs),
        log_container=clean(container), logs_note=clean(logs_note))
