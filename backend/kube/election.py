"""The guard replicas' leader Lease (coordination.k8s.io/v1), read and written conditionally.

A create fails with `Conflict` when another replica created it first; a replace carries the
resourceVersion that was read, so it fails with `Conflict` when another replica wrote since.
"""

from __future__ import annotations

import math
from typing import Any

from turnout.backend.errors import NotFound
from turnout.backend.guard.ports import LeaseRecord
from turnout.backend.kube import wire
from turnout.backend.kube.http import KubeHttp, decode
from turnout.backend.kube.lock import PATH

JSON = "application/json"


def _micro(record: LeaseRecord, field: str) -> str | None:
    at = getattr(record, field)
    return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(lease: wire.Lease) -> LeaseRecord:
    spec = lease.spec
    return LeaseRecord(holder=spec.holder_identity, duration=float(spec.lease_duration_seconds),
                       acquired=spec.acquire_time, renewed=spec.renew_time,
                       transitions=spec.lease_transitions, version=lease.metadata.resource_version)


async def read_lease(http: KubeHttp, namespace: str, name: str) -> LeaseRecord | None:
    """The Lease, or None."""
    path = f"{PATH.format(ns=namespace)}/{name}"
    try:
        lease = decode(await http.get(path), wire.Lease, f"GET {path}")
    except NotFound:
        return None
    return _record(lease)


async def write_lease(http: KubeHttp, namespace: str, name: str, record: LeaseRecord) -> LeaseRecord:
    """Create or conditionally replace the Lease; what the server stored."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace,
                            "labels": {"app.kubernetes.io/managed-by": "turnout",
                                       "app.kubernetes.io/name": "turnout-guard"}}
    if record.version:
        meta["resourceVersion"] = record.version
    body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
            "spec": {"holderIdentity": record.holder,
                     "leaseDurationSeconds": max(1, math.ceil(record.duration)),
                     "acquireTime": _micro(record, "acquired"), "renewTime": _micro(record, "renewed"),
                     "leaseTransitions": record.transitions}}
    if record.version:
        path = f"{PATH.format(ns=namespace)}/{name}"
        stored = await http.write("PUT", path, body, content_type=JSON)
    else:
        path = PATH.format(ns=namespace)
        stored = await http.write("POST", path, body, content_type=JSON)
    return _record(decode(stored, wire.Lease, f"write {path}"))
