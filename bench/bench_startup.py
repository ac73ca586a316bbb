"""First frame of `turnout demo`: from process start until the overview's rows are on a real
terminal (a pseudo-terminal), beside a minimal Textual app measured the same way in the same
run, the two alternating so that a change of load weighs on both. The goal is 0.5 s; the
minimal app is the floor Textual itself sets on this machine.

Wall time is what the operator waits; the process's CPU time until that frame (user + system,
read from /proc when the frame arrives) is the same work, less sensitive to other processes
competing for the cores. Where valgrind is installed, the instructions each executes until its
first frame (cachegrind, one run each) are counted too: a figure no other load on the machine
changes, so a change to the start path can be weighed on a busy machine."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

RUNS = 7
TICK = os.sysconf("SC_CLK_TCK")
MINIMAL = """
from textual.app import App
from textual.widgets import Static

class Minimal(App[None]):
    def compose(self):
        yield Static("checkout ready")

Minimal().run()
"""
FIRST_FRAME_EXIT = """
import os
import textual.drivers.linux_driver as _driver
_write = _driver.LinuxDriver.write
def _exit_at_first_frame(self, data):
    if {marker!r} in data:
        os._exit(0)
    return _write(self, data)
_driver.LinuxDriver.write = _exit_at_first_frame
"""
DEMO = """
import sys
from turnout.backend.startup import main
sys.argv = ["turnout", "demo"]
main()
"""


def _cpu(pid: int) -> float:
    """User + system seconds process `pid` has run so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _first_frame(argv: list[str], marker: bytes, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds from spawning `argv` on a pty until `marker` has been written to it."""
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
        cpu = _cpu(proc.pid)
    finally:
        proc.kill()
        proc.wait(10)
        os.close(master)
    if marker not in seen:
        raise RuntimeError(f"{argv[-1]!r} never drew {marker!r}")
    return elapsed, cpu


def _instructions(code: str, env: dict[str, str], folder: str) -> int:
    """Instructions `python -c code` executes (cachegrind), the process on a pty as above."""
    out, log = os.path.join(folder, "cachegrind.out"), os.path.join(folder, "valgrind.log")
    argv = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
            f"--log-file={log}", sys.executable, "-c", code]
    master, slave = pty.openpty()
    # CPython's own allocator confuses valgrind; the system one is what it can follow.
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                            env={**env, "PYTHONMALLOC": "malloc"})
    os.close(slave)
    try:
        while proc.poll() is None:
            if select.select([master], [], [], 0.2)[0]:
                with contextlib.suppress(OSError):
                    os.read(master, 65536)
        proc.wait(600)
    finally:
        os.close(master)
    with open(log) as text:
        found = re.search(r"I\s+refs:\s+([\d,]+)", text.read())
    if found is None:
        raise RuntimeError(f"valgrind counted no instructions (see {log})")
    return int(found.group(1).replace(",", ""))


def instruction_rows(env: dict[str, str], folder: str) -> list[dict[str, Any]]:
    """Instructions to the first frame, Turnout's demo beside the minimal app, where valgrind is."""
    if shutil.which("valgrind") is None:
        return []
    demo = _instructions(FIRST_FRAME_EXIT.format(marker="checkout") + DEMO, env, folder)
    minimal = _instructions(FIRST_FRAME_EXIT.format(marker="checkout ready") + MINIMAL, env, folder)
    return [
        {"name": "turnout demo: instructions to the first frame (valgrind)",
         "value": demo / 1e9, "unit": "G"},
        {"name": "peer: minimal Textual app, instructions to the first frame (valgrind)",
         "value": minimal / 1e9, "unit": "G"},
        {"name": "turnout demo / minimal Textual app, instructions to the first frame",
         "value": demo / minimal, "unit": "x"},
    ]


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
        turnout, minimal = [], []
        for _ in range(RUNS):
            turnout.append(_first_frame(demo, b"checkout", env))
            minimal.append(_first_frame(minimal_app, b"checkout ready", env))
        counted = instruction_rows(env, state)
    wall = statistics.median(w for w, _ in turnout), statistics.median(w for w, _ in minimal)
    return [
        {"name": f"turnout demo: first frame with the apps (median of {RUNS})",
         "value": wall[0], "unit": "s"},
        {"name": f"peer: minimal Textual app, first frame (median of {RUNS})",
         "value": wall[1], "unit": "s"},
        {"name": f"turnout demo: CPU time to the first frame (median of {RUNS})",
         "value": statistics.median(c for _, c in turnout), "unit": "s"},
        {"name": f"peer: minimal Textual app, CPU time to the first frame (median of {RUNS})",
         "value": statistics.median(c for _, c in minimal), "unit": "s"},
        {"name": "turnout demo / minimal Textual app, first frame (wall)",
         "value": wall[0] / wall[1], "unit": "x"},
        *counted,
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<60} {row['value']:.3f} {row['unit']}")
