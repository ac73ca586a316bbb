"""The app checklist, pure: a running app's objects audited against the production shape.

The shape (README, "What makes an app production-ready") is the one the Helm chart
renders: per color 3 replicas, RollingUpdate with maxSurge 1 and maxUnavailable 0,
liveness/readiness/startup probes, requests and limits, the restricted security
context, an HPA, a PodDisruptionBudget; a default-deny NetworkPolicy, TLS on the
Ingress and the namespace labelled for Pod Security Standards `restricted`.

`audit(manifests)` turns the objects read (plain JSON mappings, as the API server
sent them) into one `CheckItem` per rule and object: pass, warn or fail, with the
object and the field at fault. Nothing here performs I/O. An object that could not
be read is a failed item that says so: unknown is never a pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from turnout.backend.models import COLORS, Color
from turnout.backend.sanitize import inert

Status = Literal["pass", "warn", "fail"]
RANK: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2}
Json = Mapping[str, Any]

PSS_LABEL = "pod-security.kubernetes.io/enforce"


class CheckItem(msgspec.Struct, frozen=True, kw_only=True):
    """One rule of the checklist on one object."""

    item: str
    """The rule, in the operator's words (`liveness probe`, `PodDisruptionBudget`)."""
    status: Status
    object: str
    """`kind/name` of the object at fault (or the one that satisfies the rule)."""
    field: str
    """The field the rule reads, as kubectl explain spells it."""
    expected: str
    actual: str


class Checklist(msgspec.Struct, frozen=True, kw_only=True):
    """Every item of one app's checklist; `status` is the worst of them."""

    app: str
    namespace: str
    context: str
    items: tuple[CheckItem, ...]

    @property
    def status(self) -> Status:
        """The worst item's status (an empty checklist cannot pass)."""
        if not self.items:
            return "fail"
        worst = max(self.items, key=lambda i: RANK[i.status])
        return worst.status

    @property
    def failed(self) -> tuple[CheckItem, ...]:
        """The items that fail."""
        return tuple(i for i in self.items if i.status == "fail")


@dataclass(frozen=True)
class Manifests:
    """What the checklist reads about one app, as the API server returned it."""

    app: str
    namespace: str
    live: Color
    deployments: Mapping[Color, Json | None]
    hpas: Sequence[Json] = ()
    pdbs: Sequence[Json] = ()
    policies: Sequence[Json] = ()
    ingresses: Sequence[Json] = ()
    namespace_labels: Mapping[str, str] | None = None
    """None when the Namespace could not be read (see `unreadable`)."""
    live_service: str = ""
    gateway: bool = False
    """The app is routed by an HTTPRoute: TLS ends at its Gateway, not an Ingress."""
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Kinds that could not be read (`horizontalpodautoscalers` -> the reason)."""


def _get(obj: Json | None, path: str) -> Any:
    """A nested field by dotted path; None when any step is missing."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def _name(obj: Json) -> str:
    return str(_get(obj, "metadata.name") or "")


def _ref(kind: str, obj: Json) -> str:
    return f"{kind}/{_name(obj)}"


# --- quantities --------------------------------------------------------------

_SUFFIX = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


def quantity(text: object) -> float | None:
    """A Kubernetes resource quantity (`200m`, `0.5`, `256Mi`) as a number; None if not one."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return None
    found = _QUANTITY.match(text.strip())
    if found is None:
        return None
    return float(found.group(1)) * _SUFFIX[found.group(2) or ""]


def _show(value: object) -> str:
    """A value as the checklist shows it: outside text made inert, absent as `unset`."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return inert(str(value), single_line=True)


# --- items --------------------------------------------------------------------

@dataclass
class _Items:
    """The items being gathered, with one helper per status rule."""

    out: list[CheckItem] = field(default_factory=list)

    def add(self, item: str, status: Status, obj: str, path: str, expected: str,
            actual: object) -> None:
        self.out.append(CheckItem(item=item, status=status, object=inert(obj, single_line=True),
                                  field=inert(path, single_line=True), expected=expected,
                                  actual=_show(actual)))

    def equal(self, item: str, obj: str, path: str, expected: object, actual: object, *,
              missing: Status = "fail", differs: Status = "warn") -> None:
        """Pass when `actual == expected`; `missing` when unset, `differs` otherwise."""
        status: Status = ("pass" if actual == expected else missing if actual is None else differs)
        self.add(item, status, obj, path, _show(expected), actual)


def _container_items(items: _Items, obj: str, pod: Json, container: Json, index: int) -> None:
    where = f"spec.template.spec.containers[{_show(container.get('name') or index)}]"
    _probe_items(items, obj, where, container)
    _resource_items(items, obj, where, container)
    _security_items(items, obj, where, pod, container)


PROBES = (
    # (item, key, path, initialDelaySeconds, periodSeconds, failureThreshold, missing)
    ("liveness probe", "livenessProbe", "/health", 30, 10, None, "fail"),
    ("readiness probe", "readinessProbe", "/ready", 10, 5, None, "fail"),
    ("startup probe", "startupProbe", "/health", None, 5, 30, "warn"),
)


def _probe_items(items: _Items, obj: str, where: str, container: Json) -> None:
    for item, key, path, delay, period, failures, missing in PROBES:
        probe = container.get(key)
        at = f"{where}.{key}"
        if not isinstance(probe, Mapping):
            items.add(item, "fail" if missing == "fail" else "warn", obj, at, f"httpGet {path}",
                      None)
            continue
        want = {"httpGet.path": path, "initialDelaySeconds": delay, "periodSeconds": period,
                "failureThreshold": failures}
        wrong = [f"{k}={_show(_get(probe, k))}" for k, v in want.items()
                 if v is not None and _get(probe, k) != v]
        expected = ", ".join(f"{k}={v}" for k, v in want.items() if v is not None)
        items.add(item, "warn" if wrong else "pass", obj, at, expected,
                  "; ".join(wrong) if wrong else "as expected")


RESOURCES = (("requests", "cpu", "200m"), ("requests", "memory", "256Mi"),
             ("limits", "cpu", "500m"), ("limits", "memory", "512Mi"))


def _resource_items(items: _Items, obj: str, where: str, container: Json) -> None:
    for kind, resource, want in RESOURCES:
        raw = _get(container, f"resources.{kind}.{resource}")
        at = f"{where}.resources.{kind}.{resource}"
        if raw is None:
            items.add(f"{resource} {kind[:-1]}", "fail", obj, at, want, None)
            continue
        same = quantity(raw) is not None and quantity(raw) == quantity(want)
        items.add(f"{resource} {kind[:-1]}", "pass" if same else "warn", obj, at, want, raw)


def _effective(pod: Json, container: Json, key: str) -> Any:
    """A security setting as the kubelet applies it: the container's, else the pod's."""
    own = _get(container, f"securityContext.{key}")
    return own if own is not None else _get(pod, f"securityContext.{key}")


def _security_items(items: _Items, obj: str, where: str, pod: Json, container: Json) -> None:
    sc = f"{where}.securityContext"
    user = _effective(pod, container, "runAsUser")
    non_root = _effective(pod, container, "runAsNonRoot")
    root = user == 0 or (user is None and non_root is not True)
    items.add("non-root user", "fail" if root else "pass" if user == 1000 else "warn", obj,
              f"{sc}.runAsUser", "1000 (runAsNonRoot true)",
              f"runAsUser={_show(user)}, runAsNonRoot={_show(non_root)}")
    items.equal("read-only root filesystem", obj, f"{sc}.readOnlyRootFilesystem", True,
                _get(container, "securityContext.readOnlyRootFilesystem"), differs="fail")
    items.equal("no privilege escalation", obj, f"{sc}.allowPrivilegeEscalation", False,
                _get(container, "securityContext.allowPrivilegeEscalation"), differs="fail")
    dropped = _get(container, "securityContext.capabilities.drop")
    drops_all = isinstance(dropped, list) and "ALL" in dropped
    items.add("capabilities dropped", "pass" if drops_all else "fail", obj,
              f"{sc}.capabilities.drop", "ALL",
              ", ".join(map(str, dropped)) if isinstance(dropped, list) else dropped)
    items.equal("seccomp profile", obj, f"{sc}.seccompProfile.type", "RuntimeDefault",
                _effective(pod, container, "seccompProfile.type"), differs="warn")


def _deployment_items(items: _Items, m: Manifests, color: Color, dep: Json,
                      hpa: Json | None) -> None:
    obj = _ref("deployment", dep)
    replicas = _get(dep, "spec.replicas")
    if hpa is not None:
        items.add("replicas", "pass", obj, "spec.replicas",
                  f"set by {_ref('horizontalpodautoscaler', hpa)}", replicas)
    elif color == m.live:
        items.add("replicas", "pass" if isinstance(replicas, int) and replicas >= 3 else "warn",
                  obj, "spec.replicas", ">= 3 (live color)", replicas)
    strategy = _get(dep, "spec.strategy.type") or "RollingUpdate"
    items.add("rollout strategy", "pass" if strategy == "RollingUpdate" else "fail", obj,
              "spec.strategy.type", "RollingUpdate", strategy)
    if strategy == "RollingUpdate":
        for key, want in (("maxSurge", 1), ("maxUnavailable", 0)):
            items.equal(key, obj, f"spec.strategy.rollingUpdate.{key}", want,
                        _get(dep, f"spec.strategy.rollingUpdate.{key}"), missing="warn")
    pod = _get(dep, "spec.template.spec") or {}
    secrets = pod.get("imagePullSecrets")
    items.add("image pull secrets", "pass" if secrets else "warn", obj,
              "spec.template.spec.imagePullSecrets", "set", "set" if secrets else None)
    anti = _get(pod, "affinity.podAntiAffinity")
    items.add("pod anti-affinity", "pass" if anti else "warn", obj,
              "spec.template.spec.affinity.podAntiAffinity", "across nodes",
              "set" if anti else None)
    containers = pod.get("containers") or []
    for index, container in enumerate(containers):
        if isinstance(container, Mapping):
            _container_items(items, obj, pod, container, index)


def _targets(hpa: Json, deployment: str) -> bool:
    ref = _get(hpa, "spec.scaleTargetRef") or {}
    return bool(ref.get("kind") == "Deployment" and ref.get("name") == deployment)


def _metric_target(hpa: Json, resource: str) -> Any:
    for metric in _get(hpa, "spec.metrics") or []:
        if _get(metric, "type") == "Resource" and _get(metric, "resource.name") == resource:
            return _get(metric, "resource.target.averageUtilization")
    return None


def _hpa_items(items: _Items, m: Manifests, dep: Json, hpa: Json | None) -> None:
    deployment = _name(dep)
    if "horizontalpodautoscalers" in m.unreadable:
        items.add("HorizontalPodAutoscaler", "fail", f"deployment/{deployment}",
                  "horizontalpodautoscalers", "an HPA targeting it",
                  f"unknown: {m.unreadable['horizontalpodautoscalers']}")
        return
    if hpa is None:
        items.add("HorizontalPodAutoscaler", "warn", f"deployment/{deployment}",
                  "horizontalpodautoscaler.spec.scaleTargetRef", "an HPA targeting it", None)
        return
    obj = _ref("horizontalpodautoscaler", hpa)
    items.equal("HPA minimum", obj, "spec.minReplicas", 2, _get(hpa, "spec.minReplicas") or 1)
    items.equal("HPA maximum", obj, "spec.maxReplicas", 10, _get(hpa, "spec.maxReplicas"))
    for resource, want in (("cpu", 70), ("memory", 80)):
        items.equal(f"HPA {resource} target", obj,
                    f"spec.metrics[{resource}].resource.target.averageUtilization", want,
                    _metric_target(hpa, resource), missing="warn")


def selects(selector: Json | None, labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector matches `labels` (an empty selector matches everything)."""
    if not isinstance(selector, Mapping):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_expression(e, labels) for e in selector.get("matchExpressions") or [])


def _expression(expr: Json, labels: Mapping[str, str]) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    present = key in labels
    checks: dict[str, Callable[[], bool]] = {
        "In": lambda: present and labels[str(key)] in values,
        "NotIn": lambda: not present or labels[str(key)] not in values,
        "Exists": lambda: present, "DoesNotExist": lambda: not present}
    return checks.get(str(op), lambda: False)()


def _pod_labels(dep: Json) -> Mapping[str, str]:
    labels = _get(dep, "spec.template.metadata.labels")
    return labels if isinstance(labels, Mapping) else {}


def _pdb_items(items: _Items, m: Manifests, dep: Json) -> None:
    owner = f"deployment/{_name(dep)}"
    if "poddisruptionbudgets" in m.unreadable:
        items.add("PodDisruptionBudget", "fail", owner, "poddisruptionbudgets",
                  "minAvailable 1", f"unknown: {m.unreadable['poddisruptionbudgets']}")
        return
    pdb = next((p for p in m.pdbs if selects(_get(p, "spec.selector"), _pod_labels(dep))), None)
    if pdb is None:
        items.add("PodDisruptionBudget", "fail", owner, "poddisruptionbudget.spec.selector",
                  "a PDB selecting its pods, minAvailable 1", None)
        return
    items.equal("PodDisruptionBudget", _ref("poddisruptionbudget", pdb), "spec.minAvailable", 1,
                _get(pdb, "spec.minAvailable"), missing="warn")


def _policy_items(items: _Items, m: Manifests, dep: Json) -> None:
    owner = f"deployment/{_name(dep)}"
    if "networkpolicies" in m.unreadable:
        items.add("NetworkPolicy", "fail", owner, "networkpolicies", "default deny",
                  f"unknown: {m.unreadable['networkpolicies']}")
        return
    labels = _pod_labels(dep)
    chosen = [p for p in m.policies if selects(_get(p, "spec.podSelector"), labels)]
    types = {t for p in chosen for t in _get(p, "spec.policyTypes") or ["Ingress"]}
    if "Ingress" not in types:
        items.add("NetworkPolicy", "fail", owner, "networkpolicy.spec.podSelector",
                  "a policy selecting its pods (deny by default)", None)
        return
    names = ", ".join(sorted(_ref("networkpolicy", p) for p in chosen))
    items.add("NetworkPolicy", "pass" if "Egress" in types else "warn", names,
              "spec.policyTypes", "Ingress, Egress", ", ".join(sorted(types)))


def _ingress_items(items: _Items, m: Manifests) -> None:
    service = m.live_service or m.app
    if "ingresses" in m.unreadable:
        items.add("Ingress TLS", "fail", f"service/{service}", "ingresses", "TLS",
                  f"unknown: {m.unreadable['ingresses']}")
        return
    front = [i for i in m.ingresses if service in _backends(i)
             and (_get(i, "metadata.annotations") or {}).get(
                 "nginx.ingress.kubernetes.io/canary") != "true"]
    if not front:
        actual = "TLS ends at the Gateway (not checked)" if m.gateway else None
        items.add("Ingress TLS", "warn", f"service/{service}", "ingress.spec.tls",
                  "an Ingress with TLS", actual)
        return
    for ingress in front:
        tls = _get(ingress, "spec.tls")
        items.add("Ingress TLS", "pass" if tls else "fail", _ref("ingress", ingress), "spec.tls",
                  "set", "set" if tls else None)


def _backends(ingress: Json) -> set[str]:
    refs = [_get(ingress, "spec.defaultBackend")]
    refs += [p.get("backend") for r in _get(ingress, "spec.rules") or []
             for p in _get(r, "http.paths") or [] if isinstance(p, Mapping)]
    return {str(_get(b, "service.name")) for b in refs if _get(b, "service.name")}


def _namespace_items(items: _Items, m: Manifests) -> None:
    obj = f"namespace/{m.namespace}"
    path = f"metadata.labels[{PSS_LABEL}]"
    if m.namespace_labels is None:
        reason = m.unreadable.get("namespaces", "not read")
        items.add("Pod Security Standards", "fail", obj, path, "restricted", f"unknown: {reason}")
        return
    enforce = m.namespace_labels.get(PSS_LABEL)
    warned = "restricted" in (m.namespace_labels.get("pod-security.kubernetes.io/warn"),
                              m.namespace_labels.get("pod-security.kubernetes.io/audit"))
    status: Status = "pass" if enforce == "restricted" else "warn" if warned else "fail"
    items.add("Pod Security Standards", status, obj, path, "restricted", enforce)


def audit(m: Manifests, context: str = "") -> Checklist:
    """The checklist of one app: every rule on each color's objects, then the app's own."""
    items = _Items()
    for color in COLORS:
        dep = m.deployments.get(color)
        if dep is None:
            items.add("Deployment", "fail", f"{color} color", "deployment", "present", None)
            continue
        hpa = next((h for h in m.hpas if _targets(h, _name(dep))), None)
        _deployment_items(items, m, color, dep, hpa)
        _hpa_items(items, m, dep, hpa)
        _pdb_items(items, m, dep)
        _policy_items(items, m, dep)
    _ingress_items(items, m)
    _namespace_items(items, m)
    return Checklist(app=m.app, namespace=m.namespace, context=context, items=tuple(items.out))


def lines(checklist: Checklist) -> Iterator[str]:
    """The checklist as plain lines (the CLI's table and the TUI's panel share them)."""
    icon = {"pass": "✓", "warn": "!", "fail": "✗"}
    for i in checklist.items:
        tail = "" if i.status == "pass" else f" (expected {i.expected}, found {i.actual})"
        yield f"{icon[i.status]} {i.status:<4} {i.item}: {i.object} {i.field}{tail}"
