"""The demo's incident records: documents in the demo cluster, as ConfigMaps would hold them."""

from __future__ import annotations

import msgspec

from turnout.backend.demo.cluster import DemoCluster
from turnout.backend.errors import Conflict
from turnout.backend.guard.recording import IncidentRecord

PREFIX = "turnout-incident-"


def save(cluster: DemoCluster, record: IncidentRecord) -> IncidentRecord:
    """Create the record, or replace it conditionally on the revision it was read at."""
    incident = record.incident
    cluster.gate.check(f"incident record of {incident.namespace}/{incident.app}")
    key = (incident.namespace, PREFIX + incident.id.lower())
    current = cluster.documents.get(key)
    actual = str(current[0]) if current else ""
    if record.revision != actual:
        raise Conflict(f"{key[0]}/{key[1]} changed by someone else (revision "
                       f"{record.revision or 'none'} read, now {actual or 'none'})")
    revision = (current[0] if current else 0) + 1
    cluster.documents[key] = (revision, msgspec.json.encode(
        msgspec.structs.replace(record, revision="")))
    return msgspec.structs.replace(record, revision=str(revision))


def records(cluster: DemoCluster, namespace: str | None) -> tuple[IncidentRecord, ...]:
    """Every stored record (of a namespace), oldest first."""
    found = [msgspec.structs.replace(msgspec.json.decode(data, type=IncidentRecord),
                                     revision=str(revision))
             for (ns, name), (revision, data) in cluster.documents.items()
             if name.startswith(PREFIX) and namespace in (None, ns)]
    return tuple(sorted(found, key=lambda r: r.incident.detected_at))
