"""Incident records on Kubernetes: one ConfigMap per incident beside its app.

`turnout-incident-<id>` holds the report (`incident.json`) and the guard's recording
(`recording.json`, bounded: `guard/recording.py`). It is labelled
`app.kubernetes.io/managed-by: turnout-incident`, outside the selector of Turnout's own
records that discovery watches, so recordings never ride along with every app list.
Writes are conditional: created once, then replaced on the resourceVersion last written.
"""

from __future__ import annotations

from typing import Any

import msgspec

from turnout.backend.errors import Conflict, InvalidInput
from turnout.backend.guard.incident import Incident
from turnout.backend.guard.recording import IncidentRecord, Recording
from turnout.backend.kube import wire
from turnout.backend.kube.http import KubeHttp, decode

MANAGED_BY = "turnout-incident"
SELECTOR = f"app.kubernetes.io/managed-by={MANAGED_BY}"
PREFIX = "turnout-incident-"


def name_of(record: IncidentRecord) -> str:
    """The ConfigMap's name (ids carry an upper-case `T`; object names are lower case)."""
    return (PREFIX + record.id.lower())[:253]


def body(record: IncidentRecord, app_label: str) -> dict[str, Any]:
    """The ConfigMap of a record, with its resourceVersion when it replaces one."""
    incident = record.incident
    meta: dict[str, Any] = {"name": name_of(record), "namespace": incident.namespace,
                            "labels": {"app.kubernetes.io/managed-by": MANAGED_BY,
                                       app_label: incident.app}}
    if record.revision:
        meta["resourceVersion"] = record.revision
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {"incident.json": msgspec.json.encode(incident).decode(),
                     "recording.json": msgspec.json.encode(record.recording).decode()}}


async def save(http: KubeHttp, record: IncidentRecord, app_label: str) -> IncidentRecord:
    """Create the record (no revision) or replace it on its revision (`Conflict` if it moved)."""
    collection = f"/api/v1/namespaces/{record.incident.namespace}/configmaps"
    if record.revision:
        reply = await http.write("PUT", f"{collection}/{name_of(record)}", body(record, app_label),
                                 content_type="application/json")
    else:
        try:
            reply = await http.write("POST", collection, body(record, app_label),
                                     content_type="application/json")
        except Conflict as err:
            raise Conflict(f"incident record {name_of(record)} exists already") from err
    saved: wire.ConfigMap = decode(reply, wire.ConfigMap, f"write {name_of(record)}")
    return msgspec.structs.replace(record, revision=saved.metadata.resource_version)


async def records(http: KubeHttp, namespace: str | None) -> tuple[IncidentRecord, ...]:
    """Every incident record (of a namespace), oldest first; an unreadable one is skipped."""
    where = f"/namespaces/{namespace}" if namespace else ""
    reply = await http.get(f"/api/v1{where}/configmaps", {"labelSelector": SELECTOR})
    listed: wire.KubeList[wire.ConfigMap] = decode(reply, wire.KubeList[wire.ConfigMap],
                                                   "list incident records")
    found = []
    for item in listed.items:
        try:
            found.append(record_of(item))
        except InvalidInput:
            continue
    return tuple(sorted(found, key=lambda r: r.incident.detected_at))


def record_of(item: wire.ConfigMap) -> IncidentRecord:
    """The record a ConfigMap holds; `InvalidInput` when it cannot be decoded."""
    try:
        incident = msgspec.json.decode(item.data.get("incident.json", ""), type=Incident)
        recording = msgspec.json.decode(item.data.get("recording.json", "{}"), type=Recording)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise InvalidInput(f"{item.metadata.name} is unreadable: {err}") from err
    return IncidentRecord(incident=incident, recording=recording,
                          revision=item.metadata.resource_version)
