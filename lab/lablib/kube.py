"""A minimal Kubernetes REST client over http.client: enough to seed and probe the lab."""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class KubeError(Exception):
    """The API server answered with an error status."""

    def __init__(self, status: int, method: str, path: str, body: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {body[:300]}")
        self.status = status


@dataclass(frozen=True)
class Kube:
    """Talks to one API server as one bearer-token user."""

    server: str
    token: str
    cafile: Path

    def request(self, method: str, path: str, body: object = None,
                content_type: str = "application/json", timeout: float = 10.0) -> dict:
        """Send one request; return the decoded JSON body or raise KubeError."""
        url = urlsplit(self.server)
        context = ssl.create_default_context(cafile=str(self.cafile))
        conn = http.client.HTTPSConnection(url.hostname, url.port, context=context,
                                           timeout=timeout)
        payload = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body=payload, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode(errors="replace")
        finally:
            conn.close()
        if resp.status >= 400:
            raise KubeError(resp.status, method, path, text)
        return json.loads(text) if text.strip().startswith("{") else {}

    def get(self, path: str) -> dict:
        """GET an object or a list."""
        return self.request("GET", path)

    def create(self, path: str, obj: object, content_type: str = "application/json") -> None:
        """POST an object to its collection; an object that already exists is fine."""
        try:
            self.request("POST", path, obj, content_type)
        except KubeError as exc:
            if exc.status != 409:
                raise

    def exists(self, path: str) -> bool:
        """True when GET ``path`` succeeds, False on 404."""
        try:
            self.get(path)
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def collection_path(api_version: str, kind_plural: str, namespace: str | None = None) -> str:
    """The REST path of a collection, e.g. ('apps/v1', 'deployments', 'shop')."""
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{base}/namespaces/{namespace}/{kind_plural}" if namespace else f"{base}/{kind_plural}"


PLURALS = {
    "Namespace": "namespaces", "Node": "nodes", "Service": "services",
    "Deployment": "deployments", "Ingress": "ingresses", "IngressClass": "ingressclasses",
    "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
    "GatewayClass": "gatewayclasses", "Gateway": "gateways", "HTTPRoute": "httproutes",
    "CustomResourceDefinition": "customresourcedefinitions",
}
"""Resource names of the kinds the lab seeds (no discovery needed)."""


def create_object(kube: Kube, obj: dict) -> None:
    """Create one manifest given as a dict with apiVersion, kind and metadata."""
    namespace = obj["metadata"].get("namespace")
    kube.create(collection_path(obj["apiVersion"], PLURALS[obj["kind"]], namespace), obj)
