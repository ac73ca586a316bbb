"""Objects the lab creates: RBAC, fake nodes, Gateway API CRDs and the demo apps.

Apps follow Turnout's conventions: Deployments ``<app>-blue`` / ``<app>-green``
labelled ``app.kubernetes.io/name`` and ``turnout.dev/color``, a live Service
``<app>`` selecting blue, a preview Service ``<app>-preview`` selecting green.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .kube import Kube, create_object

READONLY_GROUP = "lab:readonly"


@dataclass(frozen=True)
class DemoApp:
    """One seeded blue/green app."""

    name: str
    namespace: str
    router: str  # "none", "nginx" (canary Ingress pair) or "gateway" (HTTPRoute weights)
    versions: tuple[str, str] = ("1.4.2", "1.5.0")  # blue (live), green (preview)

    def version(self, color: str) -> str:
        """The version the given color runs."""
        return self.versions[0 if color == "blue" else 1]


APPS = (
    DemoApp("checkout", "shop", "none"),
    DemoApp("search", "search", "nginx"),
    DemoApp("payments", "payments", "gateway"),
)
COLORS = ("blue", "green")


def rbac() -> list[dict]:
    """A ClusterRole reading everything (CRDs, Secrets too) bound to the read-only group."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "lab-readonly"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
                      {"nonResourceURLs": ["*"], "verbs": ["get"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "lab-readonly"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": "lab-readonly"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                             "name": READONLY_GROUP}]}
    return [role, binding]


def fake_node(name: str) -> dict:
    """A Node that kwok manages (picked by its annotation); roomy enough for benchmarks."""
    capacity = {"cpu": "64", "memory": "512Gi", "pods": "20000"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name,
                         "annotations": {"kwok.x-k8s.io/node": "fake",
                                         "node.alpha.kubernetes.io/ttl": "0"},
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "type": "kwok"}},
            "status": {"allocatable": capacity, "capacity": capacity}}


def ingress_class() -> dict:
    """The `nginx` IngressClass; nothing serves it, canary annotations are just data."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}


def apply_crds(kube: Kube, crd_dir: Path, pattern: str = "*.yaml") -> list[str]:
    """Create every CRD in the files of ``crd_dir`` matching ``pattern``; return their names.

    The API server accepts YAML bodies, so the stdlib needs no YAML parser: each
    document is posted as it is.
    """
    names = []
    for path in sorted(crd_dir.glob(pattern)):
        for doc in re.split(r"(?m)^---\s*$", path.read_text()):
            if re.search(r"(?m)^kind:\s*CustomResourceDefinition\s*$", doc):
                kube.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", doc,
                            content_type="application/yaml")
                names.append(re.search(r"(?m)^  name:\s*(\S+)", doc).group(1))
    return names


def _labels(app: DemoApp, color: str) -> dict:
    return {"app.kubernetes.io/name": app.name, "turnout.dev/color": color}


def deployment(app: DemoApp, color: str, endpoint: str) -> dict:
    """``<app>-<color>``: 3 replicas of the app's image at that color's version."""
    version = app.version(color)
    pod_labels = {**_labels(app, color), "app.kubernetes.io/version": version}
    image = f"registry.local/{app.name}:{version}"
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"{app.name}-{color}", "namespace": app.namespace,
                         "labels": pod_labels, "annotations": {"turnout.dev/endpoint": endpoint}},
            "spec": {"replicas": 3, "progressDeadlineSeconds": 15,
                     "selector": {"matchLabels": _labels(app, color)},
                     "template": {"metadata": {"labels": pod_labels},
                                  "spec": {"containers": [{
                                      "name": "app", "image": image,
                                      "ports": [{"name": "http", "containerPort": 8080}]}]}}}}


def service(app: DemoApp, name: str, color: str, annotations: dict | None = None) -> dict:
    """A Service on port 80 selecting one color of the app."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": app.namespace,
                         "labels": {"app.kubernetes.io/name": app.name},
                         "annotations": annotations or {}},
            "spec": {"selector": _labels(app, color),
                     "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}


def services(app: DemoApp, endpoints: dict[str, str]) -> list[dict]:
    """Live (blue) and preview (green) Services; per-color ones for a Gateway app."""
    live = {"turnout.dev/canary-plan": "10,50,100",
            "turnout.dev/endpoints": json.dumps(endpoints, sort_keys=True)}
    result = [service(app, app.name, "blue", live), service(app, f"{app.name}-preview", "green")]
    if app.router == "gateway":
        result += [service(app, f"{app.name}-{color}", color) for color in COLORS]
    return result


def _ingress(app: DemoApp, name: str, backend: str, annotations: dict) -> dict:
    path = {"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": backend, "port": {"number": 80}}}}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": app.namespace, "annotations": annotations},
            "spec": {"ingressClassName": "nginx",
                     "rules": [{"host": f"{app.name}.lab.local", "http": {"paths": [path]}}]}}


def nginx_canary(app: DemoApp) -> list[dict]:
    """The NGINX canary pair: main Ingress to live, canary Ingress at 10 % to preview."""
    canary = {"nginx.ingress.kubernetes.io/canary": "true",
              "nginx.ingress.kubernetes.io/canary-weight": "10"}
    return [_ingress(app, app.name, app.name, {}),
            _ingress(app, f"{app.name}-canary", f"{app.name}-preview", canary)]


def gateway_route(app: DemoApp) -> list[dict]:
    """A GatewayClass, a Gateway and an HTTPRoute sending 100/0 to blue/green."""
    group = "gateway.networking.k8s.io/v1"
    gateway_class = {"apiVersion": group, "kind": "GatewayClass", "metadata": {"name": "lab"},
                     "spec": {"controllerName": "lab.turnout.dev/no-controller"}}
    gateway = {"apiVersion": group, "kind": "Gateway",
               "metadata": {"name": "lab-gateway", "namespace": app.namespace},
               "spec": {"gatewayClassName": "lab",
                        "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}}
    backends = [{"name": f"{app.name}-{color}", "port": 80, "weight": 100 if color == "blue" else 0}
                for color in COLORS]
    route = {"apiVersion": group, "kind": "HTTPRoute",
             "metadata": {"name": app.name, "namespace": app.namespace},
             "spec": {"parentRefs": [{"name": "lab-gateway"}],
                      "hostnames": [f"{app.name}.lab.local"],
                      "rules": [{"backendRefs": backends}]}}
    return [gateway_class, gateway, route]


def app_objects(app: DemoApp, endpoints: dict[str, str]) -> list[dict]:
    """Everything one app needs, its namespace first."""
    objs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": app.namespace}}]
    objs += [deployment(app, color, endpoints[color]) for color in COLORS]
    objs += services(app, endpoints)
    if app.router == "nginx":
        objs += nginx_canary(app)
    elif app.router == "gateway":
        objs += gateway_route(app)
    return objs


def seed_apps(kube: Kube, endpoints: dict[str, dict[str, str]]) -> None:
    """Create the demo apps; ``endpoints`` maps app -> color -> demo-service URL."""
    for app in APPS:
        for obj in app_objects(app, endpoints[app.name]):
            create_object(kube, obj)


def seed_cluster(kube: Kube, nodes: int) -> None:
    """RBAC for the read-only user, the fake nodes and the nginx IngressClass."""
    for obj in [*rbac(), *(fake_node(f"lab-node-{i}") for i in range(nodes)), ingress_class()]:
        create_object(kube, obj)
