"""End-to-end fixtures: the lab, and a real sshd on 127.0.0.1 to reach Turnout through."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.kube import conftest as kube_conftest

lab = kube_conftest.lab
kube = kube_conftest.kube
lab_namespace = kube_conftest.lab_namespace

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Ssh:
    """How to log in to the test sshd."""

    port: int
    key: Path

    def command(self, remote: str) -> list[str]:
        return ["ssh", "-t", "-i", str(self.key), "-p", str(self.port),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "root@127.0.0.1", remote]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(reason: str) -> None:
    if os.environ.get("TURNOUT_REQUIRE_LAB") == "1":
        pytest.fail(f"ssh end-to-end: {reason} (TURNOUT_REQUIRE_LAB=1)")
    pytest.skip(f"ssh end-to-end: {reason}")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ssh]:
    """An sshd on a free loopback port that admits one generated key for root."""
    if not Path(SSHD).exists() or shutil.which("tmux") is None or os.geteuid() != 0:
        _unavailable("needs openssh-server, tmux and root")
    home = tmp_path_factory.mktemp("sshd")
    for name in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / name)],
                       check=True)
    (home / "authorized_keys").write_text((home / "user.pub").read_text())
    port = _free_port()
    (home / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {home / 'host'}\nPidFile {home / 'pid'}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(home / "sshd_config")],
                            stderr=open(home / "sshd.log", "wb"))  # noqa: SIM115
    try:
        _wait_for_port(port, proc, home / "sshd.log")
        yield Ssh(port=port, key=home / "user")
    finally:
        proc.terminate()
        proc.wait(10)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sshd exited: {log.read_text()[-500:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("sshd did not listen within 15 s")
