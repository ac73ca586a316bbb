"""Where the lab keeps its state, and the free ports it picks."""

from __future__ import annotations

import json
import os
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root (lab/lablib/layout.py is two levels below it)."""

LAB_DIR = Path(os.environ.get("TURNOUT_LAB_DIR", REPO / ".lab"))
"""The lab's git-ignored state folder; TURNOUT_LAB_DIR moves it."""


@dataclass(frozen=True)
class Layout:
    """Paths of everything the lab writes under its state folder."""

    root: Path = LAB_DIR

    @property
    def env_json(self) -> Path:
        return self.root / "env.json"

    @property
    def pids_json(self) -> Path:
        return self.root / "pids.json"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def lock(self) -> Path:
        return self.root / "lock"

    def log(self, component: str) -> Path:
        """The log file of one component."""
        return self.logs / f"{component}.log"

    def data(self, component: str) -> Path:
        """A component's own data folder, created on demand."""
        path = self.root / "data" / component
        path.mkdir(parents=True, exist_ok=True)
        return path


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1.

    All sockets stay open until every port is picked, so no port is handed out
    twice; another program could still grab one before the lab binds it, which
    the readiness checks would then report.
    """
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def read_json(path: Path) -> dict | None:
    """A JSON file's content, or None when it is missing or half-written."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically, so a reader never sees half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
