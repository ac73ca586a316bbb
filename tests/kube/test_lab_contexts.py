"""Two real API servers (the lab's and its second, `labctl second up`): status over both
contexts, one stopped is unavailable while the other stays live, and a failover that
switches the backup context's app."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.kube.conftest import kubectl, seed_app, turnout
from tests.lab.conftest import LABCTL, Lab

pytestmark = pytest.mark.lab
BACKUP = "lab-b"


def labctl_second(action: str) -> None:
    done = subprocess.run([sys.executable, str(LABCTL), "second", action], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr or done.stdout


@pytest.fixture(scope="session")
def second(lab: Lab) -> Lab:
    """The lab with its second API server up (started on demand, stopped with the lab)."""
    labctl_second("up")
    return lab


@pytest.fixture
def both(second: Lab, lab_namespace: str) -> Iterator[str]:
    """`shop` in the same namespace of both clusters: ready in the lab, with no pods in the
    second (it runs no controllers), whose green runs the primary's live version."""
    seed_app(second, lab_namespace, "shop", "none")
    from lablib.seed import DemoApp, app_objects

    app = DemoApp("shop", lab_namespace, "none", versions=("1.3.0", "1.4.2"))
    objs = app_objects(app, {"blue": "", "green": ""})
    kubectl(second, "apply", "-f", "-", context=BACKUP,
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}))
    yield lab_namespace
    kubectl(second, "delete", "namespace", lab_namespace, "--wait=false", context=BACKUP)


def status(lab: Lab, *args: str) -> tuple[int, dict[str, Any]]:
    run = turnout(lab, *args, "status", "-o", "json")
    return run.code, json.loads(run.out)


def test_status_over_two_api_servers_lists_both(second: Lab, both: str) -> None:
    code, shown = status(second, "--all-contexts", "-n", both)
    assert code == 0
    states = {c["context"]: c["state"] for c in shown["contexts"]}
    assert states["lab"] == states[BACKUP] == "live"
    where = {(a["context"], a["namespace"], a["name"]) for a in shown["items"]}
    assert {("lab", both, "shop"), (BACKUP, both, "shop")} <= where
    backup = next(a for a in shown["items"] if a["context"] == BACKUP)
    assert backup["colors"]["green"]["version"] == "1.4.2"


def test_failover_switches_the_backup_and_leaves_the_primary(second: Lab, both: str) -> None:
    run = turnout(second, "-n", both, "failover", "shop", "--from", "lab", "--to", BACKUP,
                  "--yes", "-o", "json")
    assert run.code == 0, run.err
    assert "DNS/GSLB is outside Turnout" in run.err
    done = json.loads(run.out)
    assert done["after"]["live"] == "green" and done["after"]["weights"]["green"] == 100
    _, shown = status(second, "--context", f"lab,{BACKUP}", "-n", both)
    live = {a["context"]: a["live"] for a in shown["items"]}
    assert live == {"lab": "blue", BACKUP: "green"}


def test_a_stopped_api_server_is_unavailable_while_the_other_is_live(second: Lab,
                                                                      both: str) -> None:
    labctl_second("down")
    try:
        code, shown = status(second, "--context", f"lab,{BACKUP}", "-n", both,
                             "--request-timeout", "3s")
        assert code == 8
        states = {c["context"]: (c["state"], c["error"]) for c in shown["contexts"]}
        assert states["lab"] == ("live", None)
        assert states[BACKUP][0] == "unavailable" and states[BACKUP][1]
        assert [a["context"] for a in shown["items"]] == ["lab"]
        refused = turnout(second, "--context", f"lab,{BACKUP}", "-n", both, "switch", "shop",
                          "--to", "green", "--yes")
        assert refused.code == 2 and "one context" in refused.err
    finally:
        labctl_second("up")
