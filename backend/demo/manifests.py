"""The production shape of one blue/green app as Kubernetes objects (plain JSON).

The demo's checklist reads these; the lab tests create them in a namespace to prove
a well-formed app passes `turnout check`. They follow the same specification as
the Helm chart (`deploy/charts/`), the living reference.
"""

from __future__ import annotations

from typing import Any

from turnout.backend.checklist import PSS_LABEL, Manifests
from turnout.backend.config import Conventions
from turnout.backend.models import COLORS, Color

Obj = dict[str, Any]


def _container(image: str) -> Obj:
    probe = {"httpGet": {"path": "/health", "port": "http"}}
    return {
        "name": "app", "image": image, "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "200m", "memory": "256Mi"},
                      "limits": {"cpu": "500m", "memory": "512Mi"}},
        "livenessProbe": {**probe, "initialDelaySeconds": 30, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"},
                           "initialDelaySeconds": 10, "periodSeconds": 5},
        "startupProbe": {**probe, "periodSeconds": 5, "failureThreshold": 30},
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                            "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}},
    }


def deployment(app: str, color: Color, version: str, conv: Conventions, *,
               registry: str = "registry.demo", replicas: int = 3) -> Obj:
    """One color's Deployment, as the specification asks."""
    labels = {conv.app_label: app, conv.color_label: color,
              "app.kubernetes.io/version": version}
    selector = {conv.app_label: app, conv.color_label: color}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": f"{app}-{color}", "labels": labels},
        "spec": {
            "replicas": replicas, "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": labels}, "spec": {
                "securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "imagePullSecrets": [{"name": "registry"}],
                "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": selector}}}]}},
                "containers": [_container(f"{registry}/{app}:{version}")]}},
        },
    }


def autoscaler(app: str, color: Color, *, minimum: int = 2, maximum: int = 10) -> Obj:
    """The color's HorizontalPodAutoscaler: CPU 70 %, memory 80 %."""
    def metric(name: str, percent: int) -> Obj:
        return {"type": "Resource", "resource": {
            "name": name, "target": {"type": "Utilization", "averageUtilization": percent}}}
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": f"{app}-{color}"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                    "name": f"{app}-{color}"},
                 "minReplicas": minimum, "maxReplicas": maximum,
                 "metrics": [metric("cpu", 70), metric("memory", 80)]},
    }


def disruption_budget(app: str, color: Color, conv: Conventions) -> Obj:
    """minAvailable 1 for the color's pods."""
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": f"{app}-{color}"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {
                conv.app_label: app, conv.color_label: color}}}}


def network_policy(app: str, conv: Conventions) -> Obj:
    """Deny by default; in from the ingress controller and Prometheus, out to DNS."""
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": app},
        "spec": {
            "podSelector": {"matchLabels": {conv.app_label: app}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [
                {"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "ingress-nginx"}}},
                {"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "monitoring"}}}]}],
            "egress": [{"ports": [{"protocol": "UDP", "port": 53},
                                  {"protocol": "TCP", "port": 53}]}],
        },
    }


def services(app: str, live: Color, conv: Conventions) -> list[Obj]:
    """The live Service (selecting `live`) and the preview one (the other color)."""
    idle: Color = "green" if live == "blue" else "blue"

    def service(name: str, color: Color) -> Obj:
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                "spec": {"selector": {conv.app_label: app, conv.color_label: color},
                         "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
    return [service(app, live), service(f"{app}-preview", idle)]


def ingress(app: str, host: str) -> Obj:
    """The app's Ingress with TLS from cert-manager and NGINX rate limiting."""
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": app, "annotations": {
            "cert-manager.io/cluster-issuer": "letsencrypt",
            "nginx.ingress.kubernetes.io/limit-rps": "50"}},
        "spec": {"ingressClassName": "nginx",
                 "tls": [{"hosts": [host], "secretName": f"{app}-tls"}],
                 "rules": [{"host": host, "http": {"paths": [{
                     "path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": app, "port": {"number": 80}}}}]}}]},
    }


def app_objects(app: str, versions: dict[Color, str], conv: Conventions, *,
                live: Color = "blue", host: str = "", registry: str = "registry.demo") -> list[Obj]:
    """Every namespaced object of a production-shaped app, in the order to create them."""
    objects: list[Obj] = [deployment(app, c, versions[c], conv, registry=registry)
                          for c in COLORS]
    objects += services(app, live, conv)
    objects += [autoscaler(app, c) for c in COLORS]
    objects += [disruption_budget(app, c, conv) for c in COLORS]
    objects += [network_policy(app, conv), ingress(app, host or f"{app}.example.com")]
    return objects


def manifests(app: str, namespace: str, live: Color, objects: list[Obj],
              namespace_labels: dict[str, str] | None = None,
              conv: Conventions | None = None) -> Manifests:
    """The checklist's input from a list of objects (the demo's own, or a test's)."""
    conv = conv or Conventions()

    def kind(name: str) -> list[Obj]:
        return [o for o in objects if o.get("kind") == name]
    deployments: dict[Color, Obj | None] = {
        c: next((d for d in kind("Deployment")
                 if d["metadata"].get("labels", {}).get(conv.color_label) == c), None)
        for c in COLORS}
    labels = {PSS_LABEL: "restricted"} if namespace_labels is None else namespace_labels
    return Manifests(app=app, namespace=namespace, live=live, deployments=deployments,
                     hpas=kind("HorizontalPodAutoscaler"), pdbs=kind("PodDisruptionBudget"),
                     policies=kind("NetworkPolicy"), ingresses=kind("Ingress"),
                     namespace_labels=labels, live_service=app)
