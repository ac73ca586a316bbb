"""First frame of `turnout demo`: from process start until the overview's rows are on a real
terminal (a pseudo-terminal), beside a minimal Textual app measured the same way in the same
run. The goal is 0.5 s; the minimal app is the floor Textual itself sets on this machine."""

from __future__ import annotations

import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

RUNS = 5
MINIMAL = """
from textual.app import App
from textual.widgets import Static

class Minimal(App[None]):
    def compose(self):
        yield Static("checkout ready")

Minimal().run()
"""


def _first_frame(argv: list[str], marker: bytes, env: dict[str, str]) -> float:
    """Seconds from spawning `argv` on a pty until `marker` has been written to it."""
    master, slave = pty.openpty()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True, env=env)
    os.close(slave)
    seen = b""
    try:
        deadline = started + 60
        while marker not in seen and time.perf_counter() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        elapsed = time.perf_counter() - started
    finally:
        proc.kill()
        proc.wait(10)
        os.close(master)
    if marker not in seen:
        raise RuntimeError(f"{argv[-1]!r} never drew {marker!r}")
    return elapsed


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as state:
        # Both start from compiled bytecode, as an installed wheel does: an untimed first run
        # of each fills a bytecode cache of this run's own (PYTHONDONTWRITEBYTECODE would
        # otherwise time the compiler on every run of the editable checkout).
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
               "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24",
               "TURNOUT_STATE_DIR": state, "PYTHONPYCACHEPREFIX": os.path.join(state, "pycache")}
        demo = [sys.executable, "-m", "turnout.backend", "demo"]
        minimal_app = [sys.executable, "-c", MINIMAL]
        _first_frame(demo, b"checkout", env)
        _first_frame(minimal_app, b"checkout ready", env)
        turnout = [_first_frame(demo, b"checkout", env) for _ in range(RUNS)]
        minimal = [_first_frame(minimal_app, b"checkout ready", env) for _ in range(RUNS)]
    return [
        {"name": f"turnout demo: first frame with the apps (median of {RUNS})",
         "value": statistics.median(turnout), "unit": "s"},
        {"name": f"peer: minimal Textual app, first frame (median of {RUNS})",
         "value": statistics.median(minimal), "unit": "s"},
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<60} {row['value']:.3f} {row['unit']}")
