"""Starting the lab's processes in the background and stopping exactly those."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from .layout import Layout, read_json, write_json


def start(layout: Layout, name: str, argv: list[str], cwd: Path | None = None) -> int:
    """Start ``argv`` detached, logging to ``.lab/logs/<name>.log``; record and return its pid.

    Each process gets its own session (so its pid is also its process-group id):
    it outlives ``labctl up`` and a terminal's hang-up, and ``stop`` can signal
    the group without touching anything else.
    """
    layout.logs.mkdir(parents=True, exist_ok=True)
    with open(layout.log(name), "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                cwd=cwd, start_new_session=True)
    pids = read_json(layout.pids_json) or {}
    pids[name] = {"pid": proc.pid, "exe": argv[0]}
    write_json(layout.pids_json, pids)
    return proc.pid


def is_ours(pid: int, exe: str) -> bool:
    """True when ``pid`` is alive and still runs ``exe`` (so a recycled pid is left alone)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[1].split()[0] == "Z":
        return False
    try:
        # redis-server rewrites its cmdline, so the executable is the better witness.
        if os.readlink(f"/proc/{pid}/exe") == os.path.realpath(exe):
            return True
    except OSError:
        pass
    return any(part.decode(errors="replace") == exe for part in cmdline[:2])


def running(layout: Layout) -> dict[str, int]:
    """The lab's recorded processes that are still alive, by name."""
    pids = read_json(layout.pids_json) or {}
    return {name: rec["pid"] for name, rec in pids.items() if is_ours(rec["pid"], rec["exe"])}


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


LAST_TO_STOP = ("apiserver", "etcd")
"""Stopped after everything else, in this order: the API server hangs on SIGTERM
while its clients are connected, and etcd waits for the API server."""


def _stop(pids: dict[str, dict], grace: float) -> list[str]:
    """SIGTERM the given processes' groups, SIGKILL whatever outlives ``grace``."""
    alive = {n: r for n, r in pids.items() if is_ours(r["pid"], r["exe"])}
    for rec in alive.values():
        _signal_group(rec["pid"], signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = {n: r for n, r in alive.items() if is_ours(r["pid"], r["exe"])}
    for rec in alive.values():
        _signal_group(rec["pid"], signal.SIGKILL)
    # SIGKILL is not instant on a loaded machine (the kernel still has to tear the process
    # down): wait until each is gone, within a generous bound, before saying who survived.
    deadline = time.monotonic() + 30
    while alive and time.monotonic() < deadline:
        alive = {n: r for n, r in alive.items() if is_ours(r["pid"], r["exe"])}
        if alive:
            time.sleep(0.05)
    return list(alive)


def stop_all(layout: Layout, grace: float = 10.0) -> list[str]:
    """Stop every recorded lab process, clients first, then the API server, then etcd.

    Returns the names still alive afterwards (empty when all are gone).
    """
    pids = read_json(layout.pids_json) or {}
    tiers = [{n: r for n, r in pids.items() if n not in LAST_TO_STOP}]
    tiers += [{n: pids[n]} for n in LAST_TO_STOP if n in pids]
    left = [name for tier in tiers for name in _stop(tier, grace)]
    if not left:
        layout.pids_json.unlink(missing_ok=True)
    return left


def stop_some(layout: Layout, names: list[str], grace: float = 10.0) -> list[str]:
    """Stop the named lab processes only; forget those that are gone. Returns those left."""
    pids = read_json(layout.pids_json) or {}
    left = _stop({n: pids[n] for n in names if n in pids}, grace)
    write_json(layout.pids_json, {n: r for n, r in pids.items() if n not in names or n in left})
    return left
