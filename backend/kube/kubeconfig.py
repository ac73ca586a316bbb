"""Kubeconfig: pick a context and turn it into what an HTTP client needs.

Parsed here rather than with the stock loader so nothing global is mutated and
the result is one small record. Merging follows kubectl: for each name, the
first file that defines it wins. Credentials never appear in `repr` or errors.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from turnout.backend.errors import ConfigError


@dataclass(frozen=True)
class KubeTarget:
    """One context resolved: where the API server is and how to prove who we are."""

    context: str
    server: str
    namespace: str
    ssl: ssl.SSLContext | bool = field(repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)


def _merged(paths: list[Path]) -> dict[str, Any]:
    """Merge kubeconfig files the way kubectl does: first definition of a name wins."""
    merged: dict[str, Any] = {"clusters": {}, "contexts": {}, "users": {}, "current-context": ""}
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"kubeconfig {path}: cannot read ({type(err).__name__})") from None
        if not isinstance(doc, dict):
            raise ConfigError(f"kubeconfig {path}: expected a mapping")
        merged["current-context"] = merged["current-context"] or doc.get("current-context", "")
        for section, key in (("clusters", "cluster"), ("contexts", "context"), ("users", "user")):
            for entry in doc.get(section) or []:
                item = dict(entry.get(key) or {})
                item["_dir"] = str(path.parent)
                merged[section].setdefault(entry.get("name", ""), item)
    return merged


def load_target(paths: list[Path], context: str | None = None) -> KubeTarget:
    """Resolve `context` (default: current-context) from the kubeconfig files."""
    config = _merged(paths)
    name = context or config["current-context"]
    if not name:
        raise ConfigError("kubeconfig has no current-context; pass --context")
    ctx = config["contexts"].get(name)
    if ctx is None:
        known = ", ".join(sorted(config["contexts"])) or "none"
        raise ConfigError(f"context {name!r} not in kubeconfig (known: {known})")
    cluster = config["clusters"].get(ctx.get("cluster", ""))
    if not cluster or not cluster.get("server"):
        raise ConfigError(f"context {name!r}: cluster {ctx.get('cluster')!r} has no server")
    user = config["users"].get(ctx.get("user", ""), {})
    headers, auth = _credentials(name, user)
    return KubeTarget(context=name, server=str(cluster["server"]).rstrip("/"),
                      namespace=ctx.get("namespace") or "default",
                      ssl=_ssl_context(name, cluster, user), headers=headers, auth=auth)


def _read(entry: dict[str, Any], key: str) -> bytes | None:
    """`key-data` (base64) or the file named by `key`, relative to its kubeconfig."""
    if entry.get(f"{key}-data"):
        return base64.b64decode(entry[f"{key}-data"])
    if entry.get(key):
        path = Path(os.path.expanduser(entry[key]))
        return (path if path.is_absolute() else Path(entry["_dir"]) / path).read_bytes()
    return None


def _ssl_context(name: str, cluster: dict[str, Any], user: dict[str, Any]) -> ssl.SSLContext | bool:
    if not str(cluster["server"]).startswith("https"):
        return False
    if cluster.get("insecure-skip-tls-verify"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        try:
            ca = _read(cluster, "certificate-authority")
        except OSError as err:
            raise ConfigError(f"context {name!r}: CA file unreadable: {err.strerror}") from None
        ctx = ssl.create_default_context(cadata=ca.decode() if ca else None)
    _load_client_cert(name, ctx, user)
    return ctx


def _load_client_cert(name: str, ctx: ssl.SSLContext, user: dict[str, Any]) -> None:
    """Client certificates: the ssl module loads only files, so data goes via a private file."""
    try:
        cert, key = _read(user, "client-certificate"), _read(user, "client-key")
    except OSError as err:
        raise ConfigError(f"context {name!r}: client cert unreadable: {err.strerror}") from None
    if not cert or not key:
        return
    with tempfile.TemporaryDirectory(prefix="turnout-") as private:
        pem = Path(private) / "client.pem"
        pem.touch(mode=0o600)
        pem.write_bytes(cert + b"\n" + key)
        try:
            ctx.load_cert_chain(pem)
        except ssl.SSLError:
            raise ConfigError(f"context {name!r}: client certificate or key invalid") from None


def _credentials(name: str, user: dict[str, Any]) -> tuple[dict[str, str], tuple[str, str] | None]:
    """Bearer token (inline or file) or basic auth; exec plugins are not supported yet."""
    token = user.get("token")
    if not token and user.get("tokenFile"):
        try:
            token = Path(user["tokenFile"]).read_text().strip()
        except OSError as err:
            raise ConfigError(f"context {name!r}: tokenFile unreadable: {err.strerror}") from None
    if token:
        return {"Authorization": f"Bearer {token}"}, None
    if user.get("username") and user.get("password"):
        return {}, (str(user["username"]), str(user["password"]))
    if user.get("exec") or user.get("auth-provider"):
        raise ConfigError(f"context {name!r}: exec/auth-provider credentials are not supported "
                          "yet; use a token or client certificate")
    return {}, None
