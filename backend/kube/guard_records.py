"""What a cluster records beside an app for the guard and the audit trail: the guard's
state and report, the leader Lease, audit and incident Events, incident records with their
recordings. `KubeCluster` owns one `KubeGuardRecords` and writes these through it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from turnout.backend.config import Conventions
from turnout.backend.errors import NotFound
from turnout.backend.guard.ports import LeaseRecord
from turnout.backend.kube import election
from turnout.backend.kube.discover import GUARD_ANNOTATION, GUARD_REPORT_KEY, guard_report_name
from turnout.backend.kube.http import KubeHttp
from turnout.backend.kube.record import Recorder
from turnout.backend.models import App, AuditEntry, GuardReport

if TYPE_CHECKING:
    from turnout.backend.guard.recording import IncidentRecord

MERGE = "application/merge-patch+json"
"""JSON merge patch: the body replaces only the fields it names."""


class KubeGuardRecords:
    """Records beside an app, written through the cluster's client and event recorder."""

    def __init__(self, http: KubeHttp, conventions: Conventions, recorder: Recorder,
                 clock: Callable[[], datetime],
                 by_namespace: dict[str, Conventions] | None = None) -> None:
        self.http = http
        self.conventions = conventions
        self.by_namespace = by_namespace if by_namespace is not None else {}
        """Conventions of namespaces with their own (shared with the owning cluster)."""
        self.recorder = recorder
        self.clock = clock

    async def read_lease(self, namespace: str, name: str) -> LeaseRecord | None:
        """The guard replicas' leader Lease, or None."""
        return await election.read_lease(self.http, namespace, name)

    async def write_lease(self, namespace: str, name: str, record: LeaseRecord) -> LeaseRecord:
        """Create or conditionally replace the leader Lease (`Conflict` on a lost race)."""
        return await election.write_lease(self.http, namespace, name, record)

    async def set_guard_state(self, app: App, state: str) -> None:
        """Record the guard's state on the live Service, for every operator to see."""
        body = {"metadata": {"annotations": {GUARD_ANNOTATION: state}}}
        live = self.by_namespace.get(app.namespace, self.conventions).live_name(app.name)
        await self.http.write("PATCH", f"/api/v1/namespaces/{app.namespace}/services/{live}",
                              body, content_type=MERGE)

    async def publish_guard_report(self, app: App, report: GuardReport) -> None:
        """The guard's latest verdicts in a ConfigMap beside the app (watched like the journal).

        Not on the live Service: a report every few seconds would bump the Service's
        resourceVersion under operators' conditional writes. The report is derived state with
        one owner, so the newest evaluation simply replaces it (merge patch, else create).
        """
        bounded = msgspec.structs.replace(report, verdicts=tuple(
            msgspec.structs.replace(v, detail=v.detail[:200], source=v.source[:300])
            for v in report.verdicts))
        name = guard_report_name(app.name)
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": app.namespace,
                             "labels": {"app.kubernetes.io/managed-by": "turnout",
                                        self.conventions.app_label: app.name}},
                "data": {GUARD_REPORT_KEY: msgspec.json.encode(bounded).decode()}}
        collection = f"/api/v1/namespaces/{app.namespace}/configmaps"
        try:
            await self.http.write("PATCH", f"{collection}/{name}", body, content_type=MERGE)
        except NotFound:
            await self.http.write("POST", collection, body, content_type="application/json")

    async def record_audit(self, app: App, entry: AuditEntry) -> None:
        """The audit record as an Event on the app: the same operation id as the JSONL line."""
        def brief(state: dict[str, object]) -> str:
            return msgspec.json.encode(state).decode()[:300]

        message = (f"{entry.action}: {brief(entry.before)} -> {brief(entry.after)}; "
                   f"reason: {entry.reason or '(none given)'}; operation {entry.operation_id}")
        await self.recorder.event(app, "TurnoutAudit", message[:900], entry.at)

    async def save_incident(self, app: App, record: IncidentRecord) -> IncidentRecord:
        """The incident's report and recording in a ConfigMap beside the app (`incidents.py`)."""
        from turnout.backend.kube import incidents

        conv = self.by_namespace.get(record.incident.namespace, self.conventions)
        return await incidents.save(self.http, record, conv.app_label)

    async def incident_records(self, namespace: str | None) -> tuple[IncidentRecord, ...]:
        """The incident records kept in the cluster (of a namespace), oldest first."""
        from turnout.backend.kube import incidents

        return await incidents.records(self.http, namespace)

    async def record_incident(self, app: App, summary: str) -> None:
        """An incident as a Kubernetes Event on the app."""
        await self.recorder.event(app, "TurnoutIncident", summary, self.clock())
