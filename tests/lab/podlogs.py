"""Arranging what a lab pod's log shows.

kwok serves a pod's log from the file its `Logs` object (named after the pod, in
the pod's namespace) points at, read at request time: rewriting the file changes
the log at once. The file is in the CRI log format the kubelet reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from kubernetes import client
from kubernetes.client.rest import ApiException

GROUP, VERSION = "kwok.x-k8s.io", "v1alpha1"


def cri_log(lines: Sequence[str]) -> str:
    """``lines`` as one container's CRI log: timestamp, stream, F (full line), text."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=len(lines))
    stamps = (start + dt.timedelta(seconds=i) for i in range(len(lines)))
    return "".join(f"{t:%Y-%m-%dT%H:%M:%S.%f000Z} stdout F {line}\n"
                   for t, line in zip(stamps, lines, strict=True))


def arrange_logs(api: client.ApiClient, namespace: str, pod: str, lines: Sequence[str],
                 directory: Path) -> Path:
    """Make ``pod``'s log read ``lines``; returns the file kwok serves."""
    path = directory / f"{namespace}.{pod}.log"
    path.write_text(cri_log(lines))
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Logs",
            "metadata": {"name": pod, "namespace": namespace},
            "spec": {"logs": [{"logsFile": str(path)}]}}
    try:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            GROUP, VERSION, namespace, "logs", body)
    except ApiException as exc:
        if exc.status != 409:  # already arranged: the rewritten file is enough
            raise
    return path
