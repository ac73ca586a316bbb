"""Objects the lab creates: RBAC, fake nodes, Gateway API CRDs and the demo apps.

Apps follow Turnout's conventions: Deployments ``<app>-blue`` / ``<app>-green``
labelled ``app.kubernetes.io/name`` and ``turnout.dev/color``, a live Service
``<app>`` selecting blue, a preview Service ``<app>-preview`` selecting green.
The seeded apps are installed with Helm from ``deploy/charts/turnout-app`` (the
chart is the reference of what makes an app) into namespaces that enforce the Pod
Security Standard ``restricted``; ``app_objects`` builds the bare shape for tests
that seed an app of their own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import LabError
from .kube import Kube, create_object

READONLY_GROUP = "lab:readonly"
CHART = Path(__file__).resolve().parents[2] / "deploy" / "charts" / "turnout-app"
"""The Helm chart every seeded app is installed from."""
RESTRICTED = {f"pod-security.kubernetes.io/{mode}": "restricted"
              for mode in ("enforce", "warn", "audit")}
"""Namespace labels: the API server's PodSecurity admission refuses pods that are not
restricted (non-root, no privilege escalation, capabilities dropped, RuntimeDefault seccomp)."""


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


def gateway_class() -> dict:
    """The GatewayClass ``lab``; no controller serves it, HTTPRoute weights are just data."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
            "metadata": {"name": "lab"},
            "spec": {"controllerName": "lab.turnout.dev/no-controller"}}


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


def chart_values(app: DemoApp, endpoints: dict[str, str]) -> dict:
    """The chart's values for one seeded app: 3 replicas per color, blue live, no HPA.

    No HPA: tests scale colors, and the HPA controller enforces its bounds even
    without metrics. The nginx app starts at a 10 % canary, the others at 0.
    """
    colors = {c: {"image": f"registry.local/{app.name}:{app.version(c)}",
                  "version": app.version(c), "endpoint": endpoints[c]} for c in COLORS}
    return {"name": app.name, "live": "blue", "colors": colors, "replicas": 3,
            "progressDeadlineSeconds": 15, "router": app.router,
            "canary": {"plan": "10,50,100", "weight": 10 if app.router == "nginx" else 0},
            "host": f"{app.name}.lab.local",
            "ingress": {"tls": {"enabled": True, "clusterIssuer": "lab-ca"}},
            "gateway": {"name": "lab-gateway", "create": True, "className": "lab"},
            "imagePullSecrets": ["lab-registry"],
            "autoscaling": {"enabled": False}}


def restricted_namespace(name: str) -> dict:
    """A Namespace whose pods must meet the Pod Security Standard ``restricted``."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": RESTRICTED}}


@dataclass(frozen=True)
class Helm:
    """The helm binary, run against the lab as its admin (state kept in the lab's folder)."""

    binary: Path
    kubeconfig: Path
    home: Path

    def env(self) -> dict[str, str]:
        """Helm's cache, config and data folders inside the lab, not the user's home."""
        return {**os.environ, **{f"HELM_{kind}_HOME": str(self.home / kind.lower())
                                 for kind in ("CACHE", "CONFIG", "DATA")}}

    def install(self, release: str, namespace: str, values: Path,
                log: Path) -> subprocess.Popen:
        """Start ``helm install`` of the chart; its output goes to ``log``."""
        argv = [str(self.binary), "install", release, str(CHART), "--namespace", namespace,
                "--values", str(values), "--kubeconfig", str(self.kubeconfig),
                "--kube-context", "lab"]
        with open(log, "w") as out:
            return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=self.env())


def seed_apps(kube: Kube, helm: Helm, endpoints: dict[str, dict[str, str]],
              logs: Path) -> None:
    """Install the demo apps from the chart, all at once, each in its restricted namespace;
    ``endpoints`` maps app -> color -> demo-service URL."""
    for namespace in sorted({app.namespace for app in APPS}):
        create_object(kube, restricted_namespace(namespace))
    running = []
    for app in APPS:
        values = logs / f"values-{app.name}.json"  # JSON is YAML: no YAML writer needed
        values.write_text(json.dumps(chart_values(app, endpoints[app.name]), indent=2))
        log = logs / f"helm-{app.name}.log"
        running.append((app, log, helm.install(app.name, app.namespace, values, log)))
    failed = [f"{app.name}: {log.read_text().strip()[-300:]}"
              for app, log, proc in running if proc.wait() != 0]
    if failed:
        raise LabError("helm install failed: " + "; ".join(failed))


def seed_cluster(kube: Kube, nodes: int) -> None:
    """RBAC for the read-only user, the fake nodes and the nginx IngressClass."""
    for obj in [*rbac(), *(fake_node(f"lab-node-{i}") for i in range(nodes)), ingress_class()]:
        create_object(kube, obj)
