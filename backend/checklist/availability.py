"""The checklist of what keeps a color available: its HorizontalPodAutoscaler and its
PodDisruptionBudget."""

from __future__ import annotations

from typing import Any

from turnout.backend.checklist.model import (
    Items,
    Json,
    Manifests,
    get,
    name,
    pod_labels,
    ref,
    selects,
)


def targets(hpa: Json, deployment: str) -> bool:
    ref = get(hpa, "spec.scaleTargetRef") or {}
    return bool(ref.get("kind") == "Deployment" and ref.get("name") == deployment)


def _metric_target(hpa: Json, resource: str) -> Any:
    for metric in get(hpa, "spec.metrics") or []:
        if get(metric, "type") == "Resource" and get(metric, "resource.name") == resource:
            return get(metric, "resource.target.averageUtilization")
    return None


def hpa_items(items: Items, m: Manifests, dep: Json, hpa: Json | None) -> None:
    deployment = name(dep)
    if "horizontalpodautoscalers" in m.unreadable:
        items.add("HorizontalPodAutoscaler", "fail", f"deployment/{deployment}",
                  "horizontalpodautoscalers", "an HPA targeting it",
                  f"unknown: {m.unreadable['horizontalpodautoscalers']}")
        return
    if hpa is None:
        items.add("HorizontalPodAutoscaler", "warn", f"deployment/{deployment}",
                  "horizontalpodautoscaler.spec.scaleTargetRef", "an HPA targeting it", None)
        return
    obj = ref("horizontalpodautoscaler", hpa)
    items.equal("HPA minimum", obj, "spec.minReplicas", 2, get(hpa, "spec.minReplicas") or 1)
    items.equal("HPA maximum", obj, "spec.maxReplicas", 10, get(hpa, "spec.maxReplicas"))
    for resource, want in (("cpu", 70), ("memory", 80)):
        items.equal(f"HPA {resource} target", obj,
                    f"spec.metrics[{resource}].resource.target.averageUtilization", want,
                    _metric_target(hpa, resource), missing="warn")


def pdb_items(items: Items, m: Manifests, dep: Json) -> None:
    owner = f"deployment/{name(dep)}"
    if "poddisruptionbudgets" in m.unreadable:
        items.add("PodDisruptionBudget", "fail", owner, "poddisruptionbudgets",
                  "minAvailable 1", f"unknown: {m.unreadable['poddisruptionbudgets']}")
        return
    pdb = next((p for p in m.pdbs if selects(get(p, "spec.selector"), pod_labels(dep))), None)
    if pdb is None:
        items.add("PodDisruptionBudget", "fail", owner, "poddisruptionbudget.spec.selector",
                  "a PDB selecting its pods, minAvailable 1", None)
        return
    items.equal("PodDisruptionBudget", ref("poddisruptionbudget", pdb), "spec.minAvailable", 1,
                get(pdb, "spec.minAvailable"), missing="warn")


