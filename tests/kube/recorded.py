"""Recorded-style API JSON for the pure tests: shaped like real list responses."""

from __future__ import annotations

from typing import Any

import msgspec

from turnout.backend.kube import wire
from turnout.backend.kube.discover import Objects

NOW = "2026-01-01T12:00:00Z"


def labels(app: str, color: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": app, "turnout.dev/color": color}


def deployment(app: str, color: str, ns: str = "shop", replicas: int = 3,
               ready: int = 3, version: str = "1.0") -> dict[str, Any]:
    return {"metadata": {"name": f"{app}-{color}", "namespace": ns, "resourceVersion": "11",
                         "labels": {**labels(app, color), "app.kubernetes.io/version": version}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "app", "image": f"reg/{app}:{version}"}, {"name": "sidecar",
                                                                  "image": "envoy:1"}]}}},
            "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
                       "unknownField": {"nested": [1, 2]}}}


def pod(app: str, color: str, name: str, ns: str = "shop", *, restarts: int = 0,
        ready: bool = True, waiting: str = "", started: str = "2026-01-01T10:00:00Z",
        finished: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"restartCount": restarts, "ready": ready, "name": "app",
                              "state": {"waiting": {"reason": waiting}} if waiting else
                              {"running": {"startedAt": started}}}
    if finished:
        status["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": finished}}
    return {"metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}",
                         "resourceVersion": "5", "labels": labels(app, color)},
            "spec": {"nodeName": "node-0", "containers": [{"name": "app", "image": "x"}]},
            "status": {"phase": "Running", "startTime": started,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [status]}}


def service(name: str, app: str, color: str, ns: str = "shop",
            annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": f"rv-{name}",
                         "annotations": annotations or {}},
            "spec": {"selector": labels(app, color), "ports": [{"port": 80}]}}


def ingress(name: str, backend: str, ns: str = "shop",
            annotations: dict[str, str] | None = None) -> dict[str, Any]:
    path = {"path": "/", "backend": {"service": {"name": backend, "port": {"number": 80}}}}
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": f"rv-{name}",
                         "annotations": annotations or {}},
            "spec": {"rules": [{"host": "x", "http": {"paths": [path]}}]}}


def route(name: str, weights: dict[str, int], ns: str = "shop") -> dict[str, Any]:
    refs = [{"name": f"{name}-{c}", "port": 80, "weight": w} for c, w in weights.items()]
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": f"rv-route-{name}"},
            "spec": {"parentRefs": [{"name": "gw"}],
                     "rules": [{"matches": [{"path": {"value": "/"}}], "backendRefs": refs}]}}


def as_list(items: list[dict[str, Any]], item: type[Any]) -> list[Any]:
    """Encode like the API server, decode like the adapter."""
    body = msgspec.json.encode({"kind": "List", "metadata": {"resourceVersion": "99"},
                                "items": items})
    return msgspec.json.decode(body, type=wire.KubeList[item]).items  # type: ignore[valid-type]


def objects(deployments: list[dict[str, Any]] = (), pods: list[dict[str, Any]] = (),  # type: ignore[assignment]
            services: list[dict[str, Any]] = (), ingresses: list[dict[str, Any]] = (),  # type: ignore[assignment]
            routes: list[dict[str, Any]] = ()) -> Objects:  # type: ignore[assignment]
    return Objects(deployments=as_list(list(deployments), wire.Deployment),
                   pods=as_list(list(pods), wire.Pod),
                   services=as_list(list(services), wire.Service),
                   ingresses=as_list(list(ingresses), wire.Ingress),
                   routes=as_list(list(routes), wire.HTTPRoute))


def app_objects(app: str = "checkout", ns: str = "shop", live: str = "blue",
                router: str = "none", canary: int = 10) -> Objects:
    """One app by the conventions, with an optional NGINX or Gateway router."""
    idle = "green" if live == "blue" else "blue"
    svcs = [service(app, app, live, ns, {"turnout.dev/canary-plan": "10,50,100"}),
            service(f"{app}-preview", app, idle, ns)]
    ings, routes = [], []
    if router == "nginx":
        ings = [ingress(app, app, ns),
                ingress(f"{app}-canary", f"{app}-preview", ns,
                        {"nginx.ingress.kubernetes.io/canary": "true",
                         "nginx.ingress.kubernetes.io/canary-weight": str(canary)})]
    elif router == "gateway":
        svcs += [service(f"{app}-{c}", app, c, ns) for c in ("blue", "green")]
        routes = [route(app, {live: 100 - canary, idle: canary}, ns)]
    pods = [pod(app, c, f"{app}-{c}-{i}", ns) for c in ("blue", "green") for i in range(3)]
    return objects(deployments=[deployment(app, "blue", ns), deployment(app, "green", ns, 2, 1,
                                                                        "2.0")],
                   pods=pods, services=svcs, ingresses=ings, routes=routes)
