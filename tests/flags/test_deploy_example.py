"""deploy/flags.yaml stays true: its commands parse, the sync shares its file with the app, and
the gRPC sync sidecar listens where the app's provider connects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from turnout.backend.cli.parser import build_parser
from turnout.backend.flags.listen import is_loopback
from turnout.backend.flags.sync import grpc_address, target_path

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "flags.yaml"


def _deployments() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]
    return {d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in docs if d["kind"] == "Deployment"}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def test_every_turnout_container_runs_a_command_the_cli_accepts() -> None:
    parser = build_parser()
    commands = []
    for pod in _deployments().values():
        for container in _containers(pod):
            if container["image"].startswith("turnout:"):
                args = parser.parse_args(container["args"])
                commands.append(f"{args.command} {args.flags_command}")
    assert sorted(commands) == ["flags serve", "flags sync", "flags sync"]


def test_the_server_off_loopback_reads_its_token_from_the_mounted_secret() -> None:
    pod = _deployments()["turnout-ofrep"]
    (server,) = pod["containers"]
    args = build_parser().parse_args(server["args"])
    assert args.host == "0.0.0.0" and args.token_file
    mounts = {m["mountPath"]: m["name"] for m in server["volumeMounts"]}
    folder = str(Path(args.token_file).parent)
    assert folder in mounts and any(v["name"] == mounts[folder] and "secret" in v for v in pod["volumes"])


def test_the_sync_sidecar_shares_its_file_with_the_app_through_an_empty_dir() -> None:
    pod = _deployments()["checkout-web"]
    (sync,) = pod["initContainers"]
    assert sync["restartPolicy"] == "Always"  # a native sidecar: up before the app, as long as the pod
    target = target_path(build_parser().parse_args(sync["args"]).to)
    (app,) = pod["containers"]
    env = {e["name"]: e["value"] for e in app["env"]}
    assert env["FLAGD_OFFLINE_FLAG_SOURCE_PATH"] == str(target) and env["FLAGD_RESOLVER"] == "in-process"
    volume = {v["name"]: v for v in pod["volumes"]}
    shared = {m["name"] for m in sync["volumeMounts"] if str(target).startswith(m["mountPath"])}
    assert shared and all("emptyDir" in volume[name] for name in shared)
    assert shared <= {m["name"] for m in app["volumeMounts"]}


def test_the_grpc_sync_sidecar_listens_on_the_pods_loopback_where_the_app_connects() -> None:
    pod = _deployments()["checkout-api"]
    (sync,) = pod["initContainers"]
    assert sync["restartPolicy"] == "Always"
    host, port = grpc_address(build_parser().parse_args(sync["args"]).to)
    assert is_loopback(host)  # no token needed: only the pod's own containers reach it
    probe = " ".join(sync["startupProbe"]["exec"]["command"])
    assert f"('{host}', {port})" in probe
    (app,) = pod["containers"]
    env = {e["name"]: e["value"] for e in app["env"]}
    assert env["FLAGD_RESOLVER"] == "in-process"
    assert (env["FLAGD_HOST"], int(env["FLAGD_PORT"])) == (host, port)
    assert env["FLAGD_STREAM_DEADLINE_MS"] == "0"


def test_the_file_app_preloads_the_poll_script_from_the_configmap_the_header_creates() -> None:
    pod = _deployments()["checkout-web"]
    (app,) = pod["containers"]
    env = {e["name"]: e["value"] for e in app["env"]}
    option, script = env["NODE_OPTIONS"].split()
    assert option == "--require" and Path(script).name == "flagd-file-poll.cjs"
    assert (EXAMPLE.parent / Path(script).name).is_file()
    assert 10 <= int(env["TURNOUT_FLAGD_POLL_MS"]) <= 1000  # the kill switch within 1 s
    mounts = {m["mountPath"]: m["name"] for m in app["volumeMounts"]}
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[str(Path(script).parent)])
    name = volume["configMap"]["name"]
    assert f"create configmap {name} --from-file=deploy/{Path(script).name}" in EXAMPLE.read_text()
