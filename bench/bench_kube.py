"""Listing and decoding 10 000 pods: Turnout's lean decode next to the stock client's models.

The list is recorded (synthesised from a realistic pod, managedFields included,
about 4 KB each) and served over loopback HTTP, so both sides pay for the same
bytes. Figures: our GET + decode to domain `Pod` records, our decode alone, and
the stock `kubernetes` client's typed deserialisation of the same body.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec

from turnout.backend.gate import WriteGate
from turnout.backend.kube import wire
from turnout.backend.kube.health import pod_record
from turnout.backend.kube.http import KubeHttp
from turnout.backend.kube.kubeconfig import KubeTarget

PODS = 10_000
GOAL_SECONDS = 0.2


def template() -> dict[str, Any]:
    """One pod as the API server returns it, with the fields Turnout never reads."""
    stamp = "2026-01-01T10:00:00Z"
    managed = [{"manager": m, "operation": "Update", "apiVersion": "v1", "time": stamp,
                "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {
                    "f:app.kubernetes.io/name": {}, "f:turnout.dev/color": {}}},
                    "f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}}}}}}
               for m in ("kube-controller-manager", "kubelet", "kwok")]
    container = {"name": "app", "image": "registry.local/shop:1.4.2",
                 "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                 "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                 "env": [{"name": f"VAR_{i}", "value": "x" * 16} for i in range(6)],
                 "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent",
                 "volumeMounts": [{"name": "kube-api-access", "readOnly": True,
                                   "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]}
    conditions = [{"type": t, "status": "True", "lastProbeTime": None,
                   "lastTransitionTime": stamp} for t in
                  ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                   "PodScheduled")]
    return {
        "metadata": {"name": "", "generateName": "shop-blue-5d9c7f-", "namespace": "shop",
                     "uid": "", "resourceVersion": "1234", "creationTimestamp": stamp,
                     "labels": {"app.kubernetes.io/name": "shop", "turnout.dev/color": "blue",
                                "app.kubernetes.io/version": "1.4.2",
                                "pod-template-hash": "5d9c7f"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": "shop-blue-5d9c7f", "uid": "rs-uid",
                                          "controller": True, "blockOwnerDeletion": True}],
                     "managedFields": managed},
        "spec": {"containers": [container], "nodeName": "lab-node-0", "restartPolicy": "Always",
                 "serviceAccountName": "default", "schedulerName": "default-scheduler",
                 "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                  "effect": "NoExecute", "tolerationSeconds": 300}],
                 "volumes": [{"name": "kube-api-access", "projected": {"sources": [
                     {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}]},
        "status": {"phase": "Running", "hostIP": "10.0.0.9", "podIP": "10.0.1.2",
                   "startTime": stamp, "qosClass": "Burstable", "conditions": conditions,
                   "containerStatuses": [{"name": "app", "ready": True, "restartCount": 1,
                                          "started": True, "image": container["image"],
                                          "imageID": "sha256:abc", "containerID": "kwok://1",
                                          "state": {"running": {"startedAt": stamp}},
                                          "lastState": {"terminated": {
                                              "exitCode": 1, "reason": "Error",
                                              "startedAt": stamp, "finishedAt": stamp}}}]}}


def recorded_list(count: int = PODS) -> bytes:
    """A PodList of `count` distinct pods, as bytes on the wire."""
    base = template()
    items = []
    for i in range(count):
        pod = copy.deepcopy(base)
        pod["metadata"]["name"] = f"shop-blue-5d9c7f-{i:05d}"
        pod["metadata"]["uid"] = f"00000000-0000-0000-0000-{i:012d}"
        items.append(pod)
    return json.dumps({"kind": "PodList", "apiVersion": "v1",
                       "metadata": {"resourceVersion": "99999"}, "items": items}).encode()


def serve(body: bytes) -> ThreadingHTTPServer:
    """Loopback HTTP server answering every GET with `body`."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def ours(body: bytes) -> float:
    """Seconds to decode the list into lean structs and domain `Pod` records."""
    start = time.perf_counter()
    now = datetime.now(UTC)
    listed = msgspec.json.decode(body, type=wire.KubeList[wire.Pod])
    records = [pod_record(p, "blue", now) for p in listed.items]
    assert len(records) == PODS
    return time.perf_counter() - start


async def ours_over_http(url: str) -> float:
    """Seconds for our GET over loopback HTTP plus the decode to domain records."""
    target = KubeTarget(context="bench", server=url, namespace="default", ssl=False)
    http = KubeHttp(target, WriteGate(), timeout=30.0)
    try:
        start = time.perf_counter()
        body = await http.get("/api/v1/pods")
        elapsed = time.perf_counter() - start
        return elapsed + ours(body)
    finally:
        await http.close()


def stock(body: bytes) -> float:
    """Seconds for the kubernetes client's typed deserialisation of the same bytes."""
    from kubernetes.client import ApiClient

    class Response:
        data = body

    client = ApiClient()
    new_style = "content_type" in inspect.signature(client.deserialize).parameters
    start = time.perf_counter()
    if new_style:  # kubernetes >= 35 takes the text; older versions a response object
        result = client.deserialize(body.decode(), "V1PodList", "application/json")
    else:
        result = client.deserialize(Response(), "V1PodList")
    assert len(result.items) == PODS
    return time.perf_counter() - start


def run() -> list[dict[str, object]]:
    """The benchmark rows."""
    body = recorded_list()
    server = serve(body)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        http_seconds = min(asyncio.run(ours_over_http(url)) for _ in range(3))
    finally:
        server.shutdown()
    decode_seconds = min(ours(body) for _ in range(3))
    stock_seconds = stock(body)
    return [
        {"name": f"kube: list+decode {PODS} pods, lean (goal <= {GOAL_SECONDS} s)",
         "value": http_seconds, "unit": "s"},
        {"name": f"kube: decode {PODS} pods to domain records, lean", "value": decode_seconds,
         "unit": "s"},
        {"name": f"kube: decode {PODS} pods, stock client typed models", "value": stock_seconds,
         "unit": "s"},
        {"name": "kube: stock / lean decode", "value": stock_seconds / decode_seconds,
         "unit": "x"},
        {"name": f"kube: {PODS}-pod list size", "value": len(body) / 1e6, "unit": "MB"},
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<60} {row['value']:>10.4g} {row['unit']}")
