"""Guard speed in the lab with a leader failover: two `turnout guard --leader-elect` replicas,
the leader killed (SIGKILL) and 50 % errors injected into the canary at once; from the kill
to the standby's detection and to traffic restored (its incident report), with the default
lease timings (8 s duration, 1 s retry) and the default 2 s interval. Several runs; median
and worst, beside the figures without a failover (bench_guard) and the targets."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_guard
from bench_guard import APP, REPO, _fault, _kubectl, _lab, _seed

from turnout.backend.config import GuardSettings

RUNS = 3
SETTINGS = GuardSettings()
LEASE = "turnout-guard"


def _wait(condition: Any, what: str, seconds: float = 120) -> None:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise RuntimeError(f"never: {what}")
        time.sleep(0.1)


def _get(env: dict[str, Any], namespace: str, what: str) -> dict[str, Any]:
    done = subprocess.run(["kubectl", "--kubeconfig", env["kubeconfig"], "--context", "lab", "-n", namespace,
                           "get", what, "-o", "json"], capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def _holder(env: dict[str, Any], namespace: str) -> str:
    return str(_get(env, namespace, f"lease/{LEASE}").get("spec", {}).get("holderIdentity") or "")


def _weight(env: dict[str, Any], namespace: str) -> str:
    ingress = _get(env, namespace, f"ingress/{APP}-canary")
    return str(ingress.get("metadata", {}).get("annotations", {}).get(
        "nginx.ingress.kubernetes.io/canary-weight", ""))


def _start(env: dict[str, Any], namespace: str, folder: Path, name: str) -> subprocess.Popen[bytes]:
    config = folder / "config.yaml"
    config.write_text(json.dumps({"prometheus_url": env["prometheus_url"], "request_timeout": 2,
                                  "guard": {"lease_namespace": namespace}}))
    log = (folder / f"{name}.log").open("wb")
    return subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "turnout"), "--kubeconfig", env["kubeconfig"], "-n", namespace,
         "guard", "--leader-elect", "-o", "json"], stdout=subprocess.DEVNULL, stderr=log,
        env={**os.environ, "POD_NAME": name, "TURNOUT_CONFIG": str(config),
             "TURNOUT_STATE_DIR": str(folder / name)})


def _one_run(env: dict[str, Any], namespace: str, folder: Path) -> tuple[float, float]:
    replicas = {name: _start(env, namespace, folder, name) for name in ("guard-a", "guard-b")}
    try:
        def leads() -> str:  # one of these replicas (the Lease outlives the previous run's)
            holder = _holder(env, namespace)
            return next((n for n in replicas if holder and f"guard {holder} leads" in
                         (folder / f"{n}.log").read_text()), "")

        _wait(leads, "one of these replicas leading")
        leader = leads()
        [standby] = [n for n in replicas if n != leader]
        _wait(lambda: _get(env, namespace, f"service/{APP}")["metadata"]["annotations"].get(
            "turnout.dev/guard") == "armed", "armed")
        time.sleep(SETTINGS.interval * 2)  # the leader has evaluated: a warm failover
        replicas[leader].send_signal(signal.SIGKILL)
        killed = datetime.now(UTC)
        _fault(env, "green", error_rate=0.5)
        _wait(lambda: _weight(env, namespace) == "0", "traffic restored")
        print(f"  run: {leader} killed at {killed:%H:%M:%S.%f}, lease now {_holder(env, namespace)}",
              file=sys.stderr)
        incidents = folder / standby / "incidents"
        _wait(lambda: any(incidents.glob("*.json")), "the standby's incident report")
        report = json.loads(sorted(incidents.glob("*.json"))[-1].read_text())
    finally:
        for process in replicas.values():
            process.kill()
            process.wait()
    detected, restored = (datetime.fromisoformat(report[k]) for k in ("detected_at", "restored_at"))
    return (detected - killed).total_seconds(), (restored - killed).total_seconds()


def run() -> list[dict[str, Any]]:
    env = _lab()
    namespace = f"bench-failover-{uuid.uuid4().hex[:6]}"
    folder = Path(os.environ.get("TURNOUT_STATE_DIR", "/tmp")) / namespace
    detect, restore = [], []
    try:
        _seed(env, namespace)
        for number in range(RUNS):
            bench_guard._reset(env, namespace)
            subprocess.run([str(REPO / ".venv" / "bin" / "turnout"), "--kubeconfig", env["kubeconfig"], "-n",
                            namespace, "guard", "--arm", APP], check=True, stdout=subprocess.DEVNULL)
            run_folder = folder / str(number)
            run_folder.mkdir(parents=True)
            found = _one_run(env, namespace, run_folder)
            detect.append(found[0])
            restore.append(found[1])
    finally:
        _fault(env, "green", error_rate=0, health="ok", latency_ms=0)
        _kubectl(env, "delete", "namespace", namespace, "--wait=false")
    every = f"{len(detect)} runs, lease {SETTINGS.lease_duration:g} s, guard every {SETTINGS.interval:g} s"
    return [
        {"name": f"guard failover: leader killed -> detection, median ({every})",
         "value": statistics.median(detect), "unit": "s"},
        {"name": "guard failover: leader killed -> detection, worst", "value": max(detect), "unit": "s"},
        {"name": "guard failover: leader killed -> traffic restored, median",
         "value": statistics.median(restore), "unit": "s"},
        {"name": "guard failover: leader killed -> traffic restored, worst", "value": max(restore),
         "unit": "s"},
        {"name": "target: restored within lease duration + 15 s (issue 15)",
         "value": SETTINGS.lease_duration + 15, "unit": "s"},
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for row in run():
        print(f"{row['name']:<70} {row['value']:8.2f} {row['unit']}")
