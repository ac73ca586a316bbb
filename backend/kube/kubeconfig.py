"""Kubeconfig: pick a context and turn it into what an HTTP client needs.

Parsed here rather than with the stock loader so nothing global is mutated and
the result is one small record. Merging follows kubectl: for each name, the
first file that defines it wins. Credentials never appear in `repr` or errors.
Inside a pod with no kubeconfig, `in_cluster_target` reads the mounted
service-account token, as client-go's rest.InClusterConfig does.
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
from turnout.backend.kube.credentials import ExecToken, FileToken, TokenSource

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class KubeTarget:
    """One context resolved: where the API server is and how to prove who we are."""

    context: str
    server: str
    namespace: str
    ssl: ssl.SSLContext | bool = field(repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    token: TokenSource | None = field(default=None, repr=False)
    """A token that changes while we run (exec plugin, token file); set per request."""


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


def context_names(paths: list[Path]) -> list[str]:
    """Every context the kubeconfig files name, current-context first, then by name."""
    existing = [p for p in paths if p.is_file()]
    if not existing:
        shown = ", ".join(str(p) for p in paths)
        raise ConfigError(f"no kubeconfig found ({shown}); pass --kubeconfig")
    config = _merged(existing)
    current = config["current-context"]
    return sorted(config["contexts"], key=lambda name: (name != current, name))


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
    server = str(cluster["server"]).rstrip("/")
    headers, auth, token = _credentials(name, user, server)
    client_cert = None
    if isinstance(token, ExecToken):
        # Run once now: a broken plugin fails the command at once, and a plugin that gives a
        # client certificate must give it before the TLS context exists.
        has_token = bool(token.run())
        client_cert = token.client_cert
        token = token if has_token else None
    return KubeTarget(context=name, server=server, namespace=ctx.get("namespace") or "default",
                      ssl=_ssl_context(name, cluster, user, client_cert), headers=headers, auth=auth,
                      token=token)


def in_cluster_target(root: Path = SERVICE_ACCOUNT_DIR,
                      environ: dict[str, str] | None = None) -> KubeTarget | None:
    """The pod's own service account, when running in a cluster; else None."""
    env = os.environ if environ is None else environ
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port or not (root / "token").is_file():
        return None
    host = f"[{host}]" if ":" in host else host
    cluster = {"server": f"https://{host}:{port}", "certificate-authority": str(root / "ca.crt"),
               "_dir": str(root)}
    token = FileToken(root / "token", "in-cluster")
    token.read()
    try:
        namespace = (root / "namespace").read_text().strip() or "default"
    except OSError:
        namespace = "default"
    return KubeTarget(context="in-cluster", server=cluster["server"], namespace=namespace,
                      ssl=_ssl_context("in-cluster", cluster, {}), token=token)


def _read(entry: dict[str, Any], key: str) -> bytes | None:
    """`key-data` (base64) or the file named by `key`, relative to its kubeconfig."""
    if entry.get(f"{key}-data"):
        return base64.b64decode(entry[f"{key}-data"])
    if entry.get(key):
        path = Path(os.path.expanduser(entry[key]))
        return (path if path.is_absolute() else Path(entry["_dir"]) / path).read_bytes()
    return None


def _ssl_context(name: str, cluster: dict[str, Any], user: dict[str, Any],
                 client_cert: tuple[bytes, bytes] | None = None) -> ssl.SSLContext | bool:
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
    _load_client_cert(name, ctx, user, client_cert)
    return ctx


def _load_client_cert(name: str, ctx: ssl.SSLContext, user: dict[str, Any],
                      given: tuple[bytes, bytes] | None) -> None:
    """Client certificates: the ssl module loads only files, so data goes via a private file."""
    try:
        cert, key = given or (_read(user, "client-certificate"), _read(user, "client-key"))
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


Credentials = tuple[dict[str, str], tuple[str, str] | None, TokenSource | None]


def _credentials(name: str, user: dict[str, Any], server: str) -> Credentials:
    """A static token, a token file, an exec plugin, or basic auth; client certs are TLS's."""
    if user.get("token"):
        return {"Authorization": f"Bearer {user['token']}"}, None, None
    if user.get("tokenFile"):
        path = Path(os.path.expanduser(user["tokenFile"]))
        source = FileToken(path if path.is_absolute() else Path(user["_dir"]) / path, name)
        source.read()
        return {}, None, source
    if user.get("exec"):
        return {}, None, ExecToken(name, user["exec"], server)
    if user.get("username") and user.get("password"):
        return {}, (str(user["username"]), str(user["password"])), None
    if user.get("auth-provider"):
        raise ConfigError(f"context {name!r}: auth-provider credentials were removed from kubectl; "
                          "use the provider's exec plugin (e.g. gke-gcloud-auth-plugin, kubelogin)")
    return {}, None, None
