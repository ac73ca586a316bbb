"""Bearer tokens that change while Turnout runs: exec plugins and service-account files.

A console or a guard stays connected for hours; the cloud providers' exec
plugins (aws, gke-gcloud-auth-plugin, kubelogin) hand out tokens that live
minutes, and a pod's projected service-account token is rotated by the kubelet.
So a token is fetched per request from a source that knows when to refresh it,
and a 401 forces one refresh and one retry, as client-go does.

Tokens never appear in `repr`, errors or logs; a plugin's stderr is reduced to
one inert line because it is shown to the operator.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from turnout.backend.errors import ConfigError
from turnout.backend.sanitize import inert

EXEC_TIMEOUT = 60.0
"""Seconds a credential plugin may take (it may wait on a browser login)."""
REFRESH_MARGIN = 60.0
"""Refresh an expiring token this many seconds early, so no request races the expiry."""
FILE_REREAD = 60.0
"""How often a token file is read again (the kubelet rotates projected tokens)."""


class TokenSource(Protocol):
    """Where the bearer token of each request comes from."""

    async def token(self) -> str:
        """A token valid now."""
        ...

    def expire(self) -> bool:
        """Forget the cached token (the server said 401); False if a retry cannot help."""
        ...


class FileToken:
    """A token file, read again every `FILE_REREAD` seconds (in-cluster, `tokenFile`)."""

    def __init__(self, path: Path, context: str) -> None:
        self.path = path
        self.context = context
        self._token = ""
        self._read_at = -FILE_REREAD

    def __repr__(self) -> str:
        return f"FileToken({str(self.path)!r})"

    async def token(self) -> str:
        if time.monotonic() - self._read_at >= FILE_REREAD:
            self.read()
        return self._token

    def read(self) -> str:
        """Read the file's token now (and cache it); a clear error when missing or empty."""
        try:
            token = self.path.read_text().strip()
        except OSError as err:
            raise ConfigError(f"context {self.context!r}: token file {self.path} unreadable: "
                              f"{err.strerror}") from None
        if not token:
            raise ConfigError(f"context {self.context!r}: token file {self.path} is empty")
        self._token, self._read_at = token, time.monotonic()
        return token

    def expire(self) -> bool:
        self._read_at = -FILE_REREAD
        return True


class ExecToken:
    """A client-go credential plugin (`users[].user.exec`), run again before its token expires."""

    def __init__(self, context: str, spec: Mapping[str, Any], server: str) -> None:
        command = spec.get("command")
        if not command or not isinstance(command, str):
            raise ConfigError(f"context {context!r}: exec credentials need a command")
        self.context = context
        self.command = command
        self.args = [str(a) for a in spec.get("args") or []]
        self.env = {str(e["name"]): str(e["value"]) for e in spec.get("env") or [] if "name" in e}
        self.api_version = str(spec.get("apiVersion") or "client.authentication.k8s.io/v1")
        self.server = server
        self.provide_cluster_info = bool(spec.get("provideClusterInfo"))
        self._token = ""
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.client_cert: tuple[bytes, bytes] | None = None

    def __repr__(self) -> str:
        return f"ExecToken({self.command!r})"

    def _exec_info(self) -> str:
        spec: dict[str, Any] = {"interactive": False}
        if self.provide_cluster_info:
            spec["cluster"] = {"server": self.server}
        return json.dumps({"apiVersion": self.api_version, "kind": "ExecCredential", "spec": spec})

    def run(self) -> str:
        """Run the plugin now (blocking) and cache what it returned; the token, maybe empty."""
        env = {**os.environ, **self.env, "KUBERNETES_EXEC_INFO": self._exec_info()}
        name = Path(self.command).name
        try:
            done = subprocess.run([self.command, *self.args], env=env, capture_output=True,
                                  timeout=EXEC_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
        except FileNotFoundError:
            raise ConfigError(f"context {self.context!r}: credential plugin {name!r} not found "
                              "on PATH") from None
        except subprocess.TimeoutExpired:
            raise ConfigError(f"context {self.context!r}: credential plugin {name!r} did not "
                              f"answer within {EXEC_TIMEOUT:g}s") from None
        if done.returncode != 0:
            lines = done.stderr.decode(errors="replace").strip().splitlines()
            why = f": {inert(lines[-1], single_line=True)[:200]}" if lines else ""
            raise ConfigError(f"context {self.context!r}: credential plugin {name!r} exited with "
                              f"{done.returncode}{why}")
        return self._accept(done.stdout, name)

    def _accept(self, stdout: bytes, name: str) -> str:
        try:
            status = json.loads(stdout)["status"]
            token = str(status.get("token") or "")
            cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
            expiry = status.get("expirationTimestamp")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ConfigError(f"context {self.context!r}: credential plugin {name!r} printed no "
                              "ExecCredential status") from None
        if not token and not (cert and key):
            raise ConfigError(f"context {self.context!r}: credential plugin {name!r} returned "
                              "neither a token nor a client certificate")
        if cert and key:
            self.client_cert = (str(cert).encode(), str(key).encode())
        self._token = token
        self._expires = _monotonic_deadline(expiry)
        return token

    async def token(self) -> str:
        async with self._lock:
            if not self._token or time.monotonic() >= self._expires - REFRESH_MARGIN:
                await asyncio.to_thread(self.run)
            return self._token

    def expire(self) -> bool:
        self._expires = 0.0
        return True


def _monotonic_deadline(expiry: object) -> float:
    """A plugin's RFC 3339 expiry on the monotonic clock; none means valid until a 401."""
    if not expiry:
        return float("inf")
    try:
        at = datetime.fromisoformat(str(expiry).replace("Z", "+00:00"))
    except ValueError:
        return 0.0  # unreadable: use once, fetch again next time
    return time.monotonic() + (at.timestamp() - time.time())


class BearerAuth(httpx.Auth):
    """Sets each request's token from a `TokenSource`; on 401 refreshes once and retries."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self.source.token()}"
        response = yield request
        if response.status_code == 401 and self.source.expire():
            request.headers["Authorization"] = f"Bearer {await self.source.token()}"
            yield request
