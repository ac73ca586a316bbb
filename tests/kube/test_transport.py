"""The read-only choke point, error mapping and kubeconfig parsing, without a server."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from turnout.backend.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ReadOnly,
    Unavailable,
)
from turnout.backend.gate import WriteGate
from turnout.backend.kube.http import Gone, KubeHttp, error_for
from turnout.backend.kube.kubeconfig import KubeTarget, load_target

TARGET = KubeTarget(context="t", server="https://example.invalid", namespace="default", ssl=False,
                    headers={"Authorization": "Bearer secret-token"})


class Recorder(httpx.AsyncBaseTransport):
    """The innermost transport: records what would have left the process."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.method)
        return httpx.Response(200, json={"metadata": {}, "items": []})


@pytest.mark.parametrize("method", ["PATCH", "PUT", "POST", "DELETE"])
async def test_read_only_refuses_every_mutating_verb_before_the_wire(method: str) -> None:
    inner = Recorder()
    http = KubeHttp(TARGET, WriteGate(read_only=True, why="--read-only"), 1.0, transport=inner)
    with pytest.raises(ReadOnly, match="--read-only"):
        await http.write(method, "/api/v1/namespaces/a/services/b", {}, content_type="x")
    await http.get("/api/v1/pods")
    assert inner.sent == ["GET"]
    await http.close()


async def test_access_reviews_pass_in_read_only_mode() -> None:
    inner = Recorder()
    http = KubeHttp(TARGET, WriteGate(read_only=True), 1.0, transport=inner)
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    await http.write("POST", path, {}, content_type="application/json")
    assert inner.sent == ["POST"]
    await http.close()


@pytest.mark.parametrize(("status", "cls"), [
    (400, InvalidInput), (403, Forbidden), (404, NotFound), (409, Conflict), (410, Gone),
    (422, InvalidInput), (500, Unavailable), (503, Unavailable), (429, Unavailable)])
def test_status_codes_map_to_the_error_family(status: int, cls: type[Exception]) -> None:
    body = b'{"kind":"Status","message":"the object has been modified\\nsecond line"}'
    err = error_for(status, body, "PATCH /x")
    assert type(err) is cls
    assert str(err) == "PATCH /x: the object has been modified"


def _kubeconfig(tmp_path: Path, user: dict[str, object]) -> Path:
    path = tmp_path / "config"
    ca = base64.b64encode(b"not a cert").decode()
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:1', "
        f"certificate-authority-data: {ca}}}\n"
        "contexts:\n- name: a\n  context: {cluster: c, user: u, namespace: shop}\n"
        f"users:\n- name: u\n  user: {user}\n")
    return path


def test_token_user_and_namespace(tmp_path: Path) -> None:
    target = load_target([_kubeconfig(tmp_path, {"token": "s3cret"})])
    assert (target.context, target.server, target.namespace) == ("a", "http://127.0.0.1:1", "shop")
    assert target.headers == {"Authorization": "Bearer s3cret"}
    assert "s3cret" not in repr(target)


def test_unknown_context_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="known: a"):
        load_target([_kubeconfig(tmp_path, {"token": "x"})], "prod")


def test_auth_provider_and_missing_plugins_are_clear_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exec plugin"):
        load_target([_kubeconfig(tmp_path, {"auth-provider": {"name": "gcp"}})])
    with pytest.raises(ConfigError, match="credential plugin 'no-such-plugin' not found on PATH"):
        load_target([_kubeconfig(tmp_path, {"exec": {"command": "no-such-plugin"}})])


def test_first_file_defining_a_name_wins(tmp_path: Path) -> None:
    first = _kubeconfig(tmp_path, {"token": "first"})
    (tmp_path / "b").mkdir()
    second = _kubeconfig(tmp_path / "b", {"token": "second"})
    assert load_target([first, second]).headers["Authorization"] == "Bearer first"
