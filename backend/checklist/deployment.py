"""The checklist of a color's Deployment: replicas, rollout strategy, pull secrets,
anti-affinity, and each container's probes, requests and limits and security context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from turnout.backend.checklist.model import Items, Json, Manifests, get, quantity, ref, show
from turnout.backend.models import Color


def deployment_items(items: Items, m: Manifests, color: Color, dep: Json,
                      hpa: Json | None) -> None:
    obj = ref("deployment", dep)
    replicas = get(dep, "spec.replicas")
    if hpa is not None:
        items.add("replicas", "pass", obj, "spec.replicas",
                  f"set by {ref('horizontalpodautoscaler', hpa)}", replicas)
    elif color == m.live:
        items.add("replicas", "pass" if isinstance(replicas, int) and replicas >= 3 else "warn",
                  obj, "spec.replicas", ">= 3 (live color)", replicas)
    strategy = get(dep, "spec.strategy.type") or "RollingUpdate"
    items.add("rollout strategy", "pass" if strategy == "RollingUpdate" else "fail", obj,
              "spec.strategy.type", "RollingUpdate", strategy)
    if strategy == "RollingUpdate":
        for key, want in (("maxSurge", 1), ("maxUnavailable", 0)):
            items.equal(key, obj, f"spec.strategy.rollingUpdate.{key}", want,
                        get(dep, f"spec.strategy.rollingUpdate.{key}"), missing="warn")
    pod = get(dep, "spec.template.spec") or {}
    secrets = pod.get("imagePullSecrets")
    items.add("image pull secrets", "pass" if secrets else "warn", obj,
              "spec.template.spec.imagePullSecrets", "set", "set" if secrets else None)
    anti = get(pod, "affinity.podAntiAffinity")
    items.add("pod anti-affinity", "pass" if anti else "warn", obj,
              "spec.template.spec.affinity.podAntiAffinity", "across nodes",
              "set" if anti else None)
    containers = pod.get("containers") or []
    for index, container in enumerate(containers):
        if isinstance(container, Mapping):
            container_items(items, obj, pod, container, index)


def container_items(items: Items, obj: str, pod: Json, container: Json, index: int) -> None:
    where = f"spec.template.spec.containers[{show(container.get('name') or index)}]"
    _probe_items(items, obj, where, container)
    _resource_items(items, obj, where, container)
    _security_items(items, obj, where, pod, container)


PROBES = (
    # (item, key, path, initialDelaySeconds, periodSeconds, failureThreshold, missing)
    ("liveness probe", "livenessProbe", "/health", 30, 10, None, "fail"),
    ("readiness probe", "readinessProbe", "/ready", 10, 5, None, "fail"),
    ("startup probe", "startupProbe", "/health", None, 5, 30, "warn"),
)


def _probe_items(items: Items, obj: str, where: str, container: Json) -> None:
    for item, key, path, delay, period, failures, missing in PROBES:
        probe = container.get(key)
        at = f"{where}.{key}"
        if not isinstance(probe, Mapping):
            items.add(item, "fail" if missing == "fail" else "warn", obj, at, f"httpGet {path}",
                      None)
            continue
        want = {"httpGet.path": path, "initialDelaySeconds": delay, "periodSeconds": period,
                "failureThreshold": failures}
        wrong = [f"{k}={show(get(probe, k))}" for k, v in want.items()
                 if v is not None and get(probe, k) != v]
        expected = ", ".join(f"{k}={v}" for k, v in want.items() if v is not None)
        items.add(item, "warn" if wrong else "pass", obj, at, expected,
                  "; ".join(wrong) if wrong else "as expected")


RESOURCES = (("requests", "cpu", "200m"), ("requests", "memory", "256Mi"),
             ("limits", "cpu", "500m"), ("limits", "memory", "512Mi"))


def _resource_items(items: Items, obj: str, where: str, container: Json) -> None:
    for kind, resource, want in RESOURCES:
        raw = get(container, f"resources.{kind}.{resource}")
        at = f"{where}.resources.{kind}.{resource}"
        if raw is None:
            items.add(f"{resource} {kind[:-1]}", "fail", obj, at, want, None)
            continue
        same = quantity(raw) is not None and quantity(raw) == quantity(want)
        items.add(f"{resource} {kind[:-1]}", "pass" if same else "warn", obj, at, want, raw)


def _effective(pod: Json, container: Json, key: str) -> Any:
    """A security setting as the kubelet applies it: the container's, else the pod's."""
    own = get(container, f"securityContext.{key}")
    return own if own is not None else get(pod, f"securityContext.{key}")


def _security_items(items: Items, obj: str, where: str, pod: Json, container: Json) -> None:
    sc = f"{where}.securityContext"
    user = _effective(pod, container, "runAsUser")
    non_root = _effective(pod, container, "runAsNonRoot")
    root = user == 0 or (user is None and non_root is not True)
    items.add("non-root user", "fail" if root else "pass" if user == 1000 else "warn", obj,
              f"{sc}.runAsUser", "1000 (runAsNonRoot true)",
              f"runAsUser={show(user)}, runAsNonRoot={show(non_root)}")
    items.equal("read-only root filesystem", obj, f"{sc}.readOnlyRootFilesystem", True,
                get(container, "securityContext.readOnlyRootFilesystem"), differs="fail")
    items.equal("no privilege escalation", obj, f"{sc}.allowPrivilegeEscalation", False,
                get(container, "securityContext.allowPrivilegeEscalation"), differs="fail")
    dropped = get(container, "securityContext.capabilities.drop")
    drops_all = isinstance(dropped, list) and "ALL" in dropped
    items.add("capabilities dropped", "pass" if drops_all else "fail", obj,
              f"{sc}.capabilities.drop", "ALL",
              ", ".join(map(str, dropped)) if isinstance(dropped, list) else dropped)
    items.equal("seccomp profile", obj, f"{sc}.seccompProfile.type", "RuntimeDefault",
                _effective(pod, container, "seccompProfile.type"), differs="warn")


