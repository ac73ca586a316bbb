"""A multi-object traffic change guarded as a whole.

Every object that routes the app (live and preview Services, the canary Ingress or
HTTPRoute and the Services its backendRefs name) is read once and its resourceVersion
kept. Before each write the whole set is read again: if any object moved (kubectl,
GitOps, another operator), the change stops before that write. Each write also carries
its own resourceVersion, so the server refuses it if the object moved since the check.
The versions our own writes produce become the expected ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec

from turnout.backend.errors import Conflict, NotFound
from turnout.backend.kube.http import KubeHttp
from turnout.backend.kube.routing import PATHS

KINDS = {"service": "service", "ingress": "ingress", "route": "route"}


class _Meta(msgspec.Struct):
    resourceVersion: str = ""


class _Object(msgspec.Struct):
    metadata: _Meta = msgspec.field(default_factory=_Meta)


def version_of(body: bytes) -> str:
    """The resourceVersion in an API object's JSON body."""
    return msgspec.json.decode(body, type=_Object).metadata.resourceVersion


class WatchedSet:
    """The resourceVersions of every routing object of one app, as this change knows them."""

    def __init__(self, http: KubeHttp, namespace: str, revisions: Mapping[str, str]) -> None:
        self.http = http
        self.namespace = namespace
        self.expected = dict(revisions)
        """kind/name -> resourceVersion this change expects."""

    def _path(self, key: str) -> str:
        kind, _, name = key.partition("/")
        return PATHS[KINDS[kind]].format(ns=self.namespace, name=name)

    async def _current(self, key: str) -> str:
        try:
            return version_of(await self.http.get(self._path(key)))
        except NotFound:
            return ""

    async def moved(self) -> list[str]:
        """The objects whose resourceVersion is no longer the one expected, as phrases."""
        keys = sorted(self.expected)
        now = await asyncio.gather(*(self._current(k) for k in keys))
        return [f"{key} was {'deleted' if not rv else 'changed'}"
                for key, rv in zip(keys, now, strict=True) if rv != self.expected[key]]

    def wrote(self, kind: str, name: str, body: bytes) -> None:
        """Our own write moved an object: its new version is the one to expect."""
        key = f"{kind}/{name}"
        if key in self.expected:
            self.expected[key] = version_of(body)


@dataclass(frozen=True)
class Guard:
    """One guarded change: its watched set, what the objects said at the read, its journal."""

    watched: WatchedSet
    says: Sequence[str]
    journal_id: str
    """The journaled operation's id; empty when the change is a single write."""


def says_diff(before: Sequence[str], after: Sequence[str]) -> list[str]:
    """What the routing objects said at the read and say now, where it differs."""
    gone = [line for line in before if line not in after]
    new = [line for line in after if line not in before]
    return ([f"was: {'; '.join(gone)}"] if gone else []) + (
        [f"now: {'; '.join(new)}"] if new else [])


def stopped(app: str, namespace: str, done: int, total: int, moved: Sequence[str],
            diff: Sequence[str], journal_id: str) -> Conflict:
    """The Conflict of a change stopped because an object of its set moved."""
    what = "; ".join([*moved, *diff]) or "an object was updated"
    if done and journal_id:
        state = (f"{done} of {total} writes were applied; operation {journal_id} stays "
                 f"journaled: `turnout -n {namespace} resume {app}` finishes it, "
                 f"`turnout -n {namespace} resume {app} --back` undoes it")
    else:
        state = "nothing was written; re-read and retry"
    return Conflict(f"{namespace}/{app} changed by someone else during the change: {what}. "
                    f"Stopped before write {done + 1} of {total}: {state}")
