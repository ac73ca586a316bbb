"""Lab fixtures for the Kubernetes backend tests: the shared lab, a namespace per test,
helpers to seed an app there with kubectl and to run the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.lab import conftest as lab_conftest
from tests.lab.conftest import Lab

# The lab's fixtures, shared with this folder (pytest_plugins works only at the root).
lab = lab_conftest.lab
kube = lab_conftest.kube
lab_namespace = lab_conftest.lab_namespace

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))


def kubectl(lab: Lab, *args: str, stdin: str | None = None,
            context: str = "lab") -> str:
    """Run kubectl against the lab; return stdout; fail the test with stderr on error."""
    done = subprocess.run(["kubectl", "--kubeconfig", lab.kubeconfig, "--context", context,
                           *args], input=stdin, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def get(lab: Lab, namespace: str, what: str) -> dict[str, Any]:
    """One object or list as JSON."""
    return json.loads(kubectl(lab, "-n", namespace, "get", what, "-o", "json"))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Run:
    """One finished CLI run."""

    code: int
    out: str
    err: str
    seconds: float


def turnout(lab: Lab, *args: str, env: dict[str, str] | None = None,
            kubeconfig: str | None = None) -> Run:
    """Run the real `turnout` CLI against the lab, stdin not a TTY."""
    start = time.monotonic()
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "turnout"), "--kubeconfig", kubeconfig or lab.kubeconfig,
         *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})})
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def seed_app(lab: Lab, namespace: str, name: str, router: str) -> None:
    """Create one blue/green app (the lab's own seed shapes) in `namespace`, wait until ready."""
    from lablib.seed import DemoApp, app_objects

    app = DemoApp(name, namespace, router)
    objs = [o for o in app_objects(app, {"blue": "", "green": ""}) if o["kind"] != "Namespace"]
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                       "items": objs}))
    kubectl(lab, "-n", namespace, "wait", "--for=condition=Available", "--timeout=90s",
            f"deployment/{name}-blue", f"deployment/{name}-green")


def restart_apiserver(lab: Lab, *, watch_cache: bool = True) -> None:
    """Stop the lab's kube-apiserver and start it again with the same flags (the watch cache
    on or off); wait for /readyz."""
    import signal

    from lablib import procs
    from lablib.layout import Layout, read_json

    layout = Layout(Path(lab.env["lab_dir"]))
    pid = (read_json(layout.pids_json) or {})["apiserver"]["pid"]
    argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    argv = [a for a in argv if not a.startswith("--watch-cache=")]
    argv += [] if watch_cache else ["--watch-cache=false"]
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while procs.is_ours(pid, argv[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    procs.start(layout, "apiserver", argv)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = subprocess.run(["kubectl", "--kubeconfig", lab.kubeconfig, "get", "--raw",
                                "/readyz"], capture_output=True, text=True, timeout=10)
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError("the API server did not come back within 60 s")
