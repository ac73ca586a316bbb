"""An operator logs in over SSH, opens Turnout in tmux and rolls a canary back.

Real sshd, real tmux, real TUI, real kube-apiserver: the screen is read with
capture-pane and the result is checked on the cluster with kubectl.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Ssh
from tests.kube.conftest import Lab, kubectl, seed_app

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
APP = "cart"


class Tmux:
    """One tmux server of the test's own."""

    def __init__(self, name: str) -> None:
        self.socket = name

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "op")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "op", *keys)

    def reversed(self, text: str) -> bool:
        """Whether `text` is drawn in reverse video, as Textual draws the focused button."""
        shown = self.run("capture-pane", "-p", "-e", "-t", "op")
        found = re.search(r"((?:\x1b\[[0-9;:]*m)+)[^\x1b]*?" + re.escape(text), shown)
        reverse = False
        for codes in re.findall(r"\x1b\[([0-9;:]*)m", found.group(1) if found else ""):
            params = iter(codes.split(";"))
            for code in params:
                if code in ("38", "48", "58"):  # a colour: its arguments are no attributes
                    for _ in range(1 if next(params, "") == "5" else 3):
                        next(params, "")
                reverse = {"": False, "0": False, "7": True, "27": False}.get(code, reverse)
        return reverse

    def wait_reversed(self, text: str, reverse: bool, seconds: float = 30) -> None:
        """Until `text` is drawn (not) reversed: a focus change seen on the screen."""
        deadline = time.monotonic() + seconds
        while self.reversed(text) != reverse and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.reversed(text) == reverse, f"{text!r} focus never {reverse}; screen:\n{self.screen()}"

    def wait_for(self, text: str, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen()}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    server = Tmux(f"turnout-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    yield server
    server.run("kill-server")


def _canary_weight(lab: Lab, namespace: str) -> str:
    return kubectl(lab, "-n", namespace, "get", "ingress", f"{APP}-canary", "-o",
                   "jsonpath={.metadata.annotations.nginx\\.ingress\\.kubernetes\\.io/canary-weight}")


def test_rollback_over_ssh_with_typed_confirmation(lab: Lab, lab_namespace: str, sshd: Ssh,
                                                    tmux: Tmux, tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, APP, "nginx")
    kubectl(lab, "-n", lab_namespace, "annotate", "--overwrite", "ingress", f"{APP}-canary",
            "nginx.ingress.kubernetes.io/canary-weight=30")
    remote = (f"cd {shlex.quote(str(REPO))} && TURNOUT_STATE_DIR={shlex.quote(str(tmp_path))} "
              f".venv/bin/turnout --kubeconfig {shlex.quote(lab.kubeconfig)} -n {lab_namespace}")
    tmux.run("new-session", "-d", "-s", "op", "-x", "120", "-y", "40",
             shlex.join(sshd.command(remote)))
    tmux.wait_for(APP)
    tmux.keys("Enter")
    tmux.wait_for("RST")  # the pod table's restart column: the app screen is open
    tmux.keys("b")
    tmux.wait_for(f"Roll back {APP} to:")  # the dialog: the previous color first, then versions
    tmux.keys("Enter")
    tmux.wait_for(f"Type {APP} to confirm")
    tmux.keys("Enter")  # focus is on Cancel: nothing happens, the dialog closes
    tmux.wait_for("nothing was changed")
    assert _canary_weight(lab, lab_namespace) == "30"
    tmux.keys("b")
    tmux.wait_for(f"Roll back {APP} to:")  # the dialog: the previous color first, then versions
    tmux.keys("Enter")
    tmux.wait_for(f"Type {APP} to confirm")
    tmux.wait_reversed(" Cancel ", True)  # the focus starts on Cancel
    tmux.keys("Tab")  # from Cancel past the disabled Confirm to the name field
    # Keys sent before the focus has moved still reach Cancel: as a person sees the focus
    # leave Cancel before typing, the test waits until Cancel is drawn unfocused.
    tmux.wait_reversed(" Cancel ", False)
    tmux.keys("-l", APP)
    tmux.keys("Enter")
    deadline = time.monotonic() + 60  # generous: a rollback waits for the stable color's pods
    while _canary_weight(lab, lab_namespace) != "0" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _canary_weight(lab, lab_namespace) == "0", f"not rolled back; the screen:\n{tmux.screen()}"
    tmux.wait_for("blue 100% / green 0%")
    tmux.keys("q")
