"""The release lock: one coordination.k8s.io Lease per app, held by `user@host`.

Two operators cannot drive the same app at once: every write first checks the
Lease, and a live Lease held by someone else refuses it with `Locked`. A Lease
whose holder stopped renewing it expires; `--force` takes over a live one.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from turnout.backend.audit import os_user
from turnout.backend.config import Conventions
from turnout.backend.errors import Locked, NotFound
from turnout.backend.kube import wire
from turnout.backend.kube.http import KubeHttp, decode

LEASE_SECONDS = 900
"""How long a lock lasts without renewal (`turnout lock` again renews it)."""
PATH = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"


def me() -> str:
    """This operator's lock identity."""
    return f"{os_user()}@{socket.gethostname()}"


def lease_name(app: str) -> str:
    """The Lease that locks `app`."""
    return f"turnout-lock-{app}"


def live_holder(lease: wire.Lease, now: datetime) -> str:
    """The holder of an unexpired Lease, else empty."""
    spec = lease.spec
    renewed = spec.renew_time or spec.acquire_time
    if not spec.holder_identity or renewed is None:
        return ""
    expired = now - renewed > timedelta(seconds=spec.lease_duration_seconds or LEASE_SECONDS)
    return "" if expired else spec.holder_identity


def lock_holder(leases: Sequence[wire.Lease], namespace: str, app: str, conv: Conventions,
                now: datetime) -> str:
    """Who holds `app`'s lock now, or empty."""
    name = lease_name(app)
    return next((live_holder(lease, now) for lease in leases
                 if lease.metadata.namespace == namespace and lease.metadata.name == name), "")


async def holder_of(http: KubeHttp, namespace: str, app: str, now: datetime) -> str:
    """Who holds `app`'s lock now: the Lease by its name, whatever labels it carries."""
    lease = await _read(http, namespace, app)
    return live_holder(lease, now) if lease is not None else ""


def check_unlocked(holder: str, app: str) -> None:
    """Refuse a write while someone else holds the app's lock."""
    if holder and holder != me():
        raise Locked(f"{app} is locked by {holder}; ask them, or take it over with "
                     f"`turnout lock {app} --force`")


def _micro(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lease_body(app: str, holder: str, now: datetime, conv: Conventions,
                rv: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": lease_name(app), "labels": {
        "app.kubernetes.io/managed-by": "turnout", conv.app_label: app}}
    if rv:
        meta["resourceVersion"] = rv
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": LEASE_SECONDS,
                     "acquireTime": _micro(now), "renewTime": _micro(now)}}


async def _read(http: KubeHttp, namespace: str, app: str) -> wire.Lease | None:
    path = f"{PATH.format(ns=namespace)}/{lease_name(app)}"
    try:
        return decode(await http.get(path), wire.Lease, f"GET {path}")  # type: ignore[no-any-return]
    except NotFound:
        return None


async def acquire(http: KubeHttp, namespace: str, app: str, conv: Conventions, now: datetime,
                  *, force: bool = False) -> str:
    """Take (or renew) the lock; return the previous live holder other than us, if any."""
    lease, holder = await _read(http, namespace, app), me()
    if lease is None:
        await http.write("POST", PATH.format(ns=namespace), _lease_body(app, holder, now, conv),
                         content_type="application/json")
        return ""
    previous = live_holder(lease, now)
    if previous and previous != holder and not force:
        check_unlocked(previous, app)
    body = _lease_body(app, holder, now, conv, lease.metadata.resource_version)
    await http.write("PUT", f"{PATH.format(ns=namespace)}/{lease_name(app)}", body,
                     content_type="application/json")
    return previous if previous != holder else ""


async def release(http: KubeHttp, namespace: str, app: str, now: datetime, *,
                  force: bool = False) -> str:
    """Give the lock up (someone else's only with `force`); return who held it."""
    lease = await _read(http, namespace, app)
    if lease is None:
        return ""
    previous = live_holder(lease, now)
    if previous and previous != me() and not force:
        check_unlocked(previous, app)
    body = {"preconditions": {"resourceVersion": lease.metadata.resource_version}}
    await http.write("DELETE", f"{PATH.format(ns=namespace)}/{lease_name(app)}", body,
                     content_type="application/json")
    return previous
