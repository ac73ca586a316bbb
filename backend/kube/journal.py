"""The intent journal: a ConfigMap per app recording a multi-object change in flight.

Written before the first write, advanced after each, deleted after the last. If
the process dies in between, `status` shows the unfinished operation and
`resume` (to the target) or `abandon` (back to the state before) converges from
whatever step was reached; both are no-ops once the journal is gone.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec

from turnout.backend.config import Conventions
from turnout.backend.errors import Conflict, NotFound, TurnoutError
from turnout.backend.kube import wire
from turnout.backend.kube.http import KubeHttp, decode
from turnout.backend.models import App, Color, Operation, Traffic, Weights

log = logging.getLogger(__name__)
PATH = "/api/v1/namespaces/{ns}/configmaps"
KEY = "operation"


class Split(msgspec.Struct, frozen=True):
    """Traffic as the journal stores it: the live color and both weights."""

    live: Color
    blue: int
    green: int

    @classmethod
    def of(cls, traffic: Traffic) -> Split:
        return cls(traffic.live, traffic.weights.blue, traffic.weights.green)

    def traffic(self, like: Traffic) -> Traffic:
        """As a `Traffic` with `like`'s router and plan."""
        return Traffic(live=self.live, weights=Weights(blue=self.blue, green=self.green),
                       router=like.router, plan=like.plan)


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """One operation in flight."""

    id: str
    kind: str
    by: str
    started_at: datetime
    step: int
    steps: tuple[str, ...]
    before: Split
    target: Split

    def operation(self) -> Operation:
        """The domain view of the entry."""
        return Operation(id=self.id, kind=self.kind, by=self.by, started_at=self.started_at,
                         step=self.step, steps=self.steps)


def journal_name(app: str) -> str:
    """The ConfigMap holding `app`'s journal."""
    return f"turnout-journal-{app}"


def entry_of(config_map: wire.ConfigMap) -> Entry | None:
    """The entry a journal ConfigMap holds, None if unreadable."""
    try:
        return msgspec.json.decode(config_map.data.get(KEY, ""), type=Entry)
    except (msgspec.DecodeError, msgspec.ValidationError):
        log.warning("journal %s unreadable; ignored", config_map.metadata.name)
        return None


def entry_in(journals: Sequence[wire.ConfigMap], namespace: str, app: str) -> Entry | None:
    """The unfinished operation of `app` as journaled, if any."""
    name = journal_name(app)
    for cm in journals:
        if cm.metadata.namespace == namespace and cm.metadata.name == name:
            return entry_of(cm)
    return None


def operation_of(journals: Sequence[wire.ConfigMap], namespace: str, app: str) -> Operation | None:
    """The unfinished operation of `app`, if any."""
    entry = entry_in(journals, namespace, app)
    return entry.operation() if entry else None


class Journal:
    """Writes one app's journal as an operation proceeds."""

    def __init__(self, http: KubeHttp, app: App, conv: Conventions) -> None:
        self.http = http
        self.app = app
        self.conv = conv
        self.entry: Entry | None = None

    @property
    def path(self) -> str:
        return f"{PATH.format(ns=self.app.namespace)}/{journal_name(self.app.name)}"

    async def read(self) -> Entry | None:
        """The journal in the cluster now, if any."""
        try:
            cm = decode(await self.http.get(self.path), wire.ConfigMap, f"GET {self.path}")
        except NotFound:
            return None
        return entry_of(cm)

    async def begin(self, kind: str, by: str, at: datetime, before: Traffic, target: Traffic,
                    steps: Sequence[str]) -> None:
        """Record the intent before the first write; another unfinished one is a `Conflict`
        (and a concurrent begin loses on the create, 409)."""
        self.entry = Entry(id=uuid.uuid4().hex[:12], kind=kind, by=by, started_at=at, step=0,
                           steps=tuple(steps), before=Split.of(before), target=Split.of(target))
        existing = await self.read()
        if existing is not None:
            raise Conflict(f"{self.app.namespace}/{self.app.name} has an unfinished operation "
                           f"{existing.id} ({existing.kind}, step {existing.step}/"
                           f"{len(existing.steps)}) by {existing.by}: `turnout resume "
                           f"{self.app.name}` finishes it, `turnout resume {self.app.name} "
                           "--back` undoes it")
        await self._save("POST")

    async def resume(self, entry: Entry, steps: Sequence[str]) -> None:
        """Carry on an unfinished entry with the steps still to do."""
        self.entry = msgspec.structs.replace(entry, step=0, steps=tuple(steps))
        await self._save("PUT")

    async def advance(self, step: int) -> None:
        """Record that `step` writes are done."""
        if self.entry is not None:
            self.entry = msgspec.structs.replace(self.entry, step=step)
            await self._save("PUT")

    async def finish(self) -> None:
        """Clear the journal: the operation is complete."""
        with contextlib.suppress(NotFound):  # already cleared by an earlier run
            await self.http.write("DELETE", self.path, {}, content_type="application/json")

    async def abandon(self) -> None:
        """Drop an entry none of whose writes was made; a failure here is only logged."""
        try:
            await self.finish()
        except TurnoutError as err:
            log.warning("journal %s could not be cleared: %s", self.path, err)

    async def _save(self, method: str) -> None:
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": journal_name(self.app.name), "namespace": self.app.namespace,
                             "labels": {"app.kubernetes.io/managed-by": "turnout",
                                        self.conv.app_label: self.app.name}},
                "data": {KEY: msgspec.json.encode(self.entry).decode()}}
        path = self.path if method == "PUT" else PATH.format(ns=self.app.namespace)
        await self.http.write(method, path, body, content_type="application/json")
