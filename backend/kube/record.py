"""Audit in the cluster: a Kubernetes Event on the app's live Service for every change.

The identity comes from the API server itself (SelfSubjectReview), so the
record names the user the server authorised, plus the OS user. A failed Event
is logged, never fatal: the change it describes has already happened.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from datetime import datetime

import msgspec

from turnout.backend.audit import os_user
from turnout.backend.errors import TurnoutError
from turnout.backend.kube.http import KubeHttp
from turnout.backend.models import App

log = logging.getLogger(__name__)
REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


class _UserInfo(msgspec.Struct):
    username: str = ""


class _ReviewStatus(msgspec.Struct, rename="camel"):
    user_info: _UserInfo = msgspec.field(default_factory=_UserInfo)


class _Review(msgspec.Struct):
    status: _ReviewStatus = msgspec.field(default_factory=_ReviewStatus)


class Recorder:
    """Writes audit Events; remembers the server-side identity."""

    def __init__(self, http: KubeHttp,
                 live_name: Callable[[App], str] = lambda app: app.name) -> None:
        self.http = http
        self.live_name = live_name
        """The name of an app's live Service (the namespace's conventions may rename it)."""
        self._identity = ""

    async def identity(self) -> str:
        """The authenticated user name, or `unknown` when the server cannot say."""
        if not self._identity:
            body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
            try:
                reply = await self.http.write("POST", REVIEW, body,
                                              content_type="application/json")
                self._identity = msgspec.json.decode(reply, type=_Review).status.user_info.username
            except (TurnoutError, msgspec.DecodeError) as err:
                log.warning("SelfSubjectReview failed: %s", err)
                return "unknown"
        return self._identity

    async def event(self, app: App, reason: str, message: str, at: datetime) -> None:
        """Record one change as an Event on `app`'s live Service."""
        who = await self.identity()
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"apiVersion": "v1", "kind": "Event",
                "metadata": {"generateName": f"{app.name}.turnout-"},
                "involvedObject": {"apiVersion": "v1", "kind": "Service",
                                   "name": self.live_name(app),
                                   "namespace": app.namespace},
                "reason": reason, "type": "Normal",
                "message": f"{message} (by {who}, os user {os_user()}, context {app.context})",
                "source": {"component": "turnout", "host": socket.gethostname()},
                "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1}
        try:
            await self.http.write("POST", f"/api/v1/namespaces/{app.namespace}/events", body,
                                  content_type="application/json")
        except TurnoutError as err:
            log.warning("audit event on %s/%s not recorded: %s", app.namespace, app.name, err)
