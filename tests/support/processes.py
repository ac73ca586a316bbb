"""Real servers started as processes for a test: start, wait until they answer, stop.

One place for what several test modules need: a `turnout` command run as its own
process (`flags serve`, `flags sync`), a third-party server (Prometheus), a free
port, a poll that waits for a condition rather than a fixed sleep, and a stop that
asks politely (SIGTERM) before it kills. The `processes` fixture (tests/conftest.py)
stops whatever a test started, even when the test fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

TURNOUT = [sys.executable, "-m", "turnout.backend"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_REFUSING: list[socket.socket] = []


def refused_port() -> int:
    """A TCP port on 127.0.0.1 where every connection is refused, for as long as the tests run.

    Bound and never listening, so the kernel refuses at once, and held, so no other process
    (another xdist worker's server) can take it: a port picked and released, then dialled
    later, may by then be someone's open one."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _REFUSING.append(sock)
    return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], what: str, seconds: float = 120.0, every: float = 0.05) -> None:
    """Poll until `condition()` is truthy; fail naming `what` after `seconds` (a generous bound,
    never the assertion itself)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(every)


def stop(process: subprocess.Popen[Any], patience: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `patience` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=patience)


class Processes:
    """The processes one test started; `stop_all` at the end of the test."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[Any]] = []

    def start(self, argv: Sequence[str], *, stdout: int | IO[Any] | None = subprocess.PIPE,
              stderr: int | IO[Any] | None = subprocess.PIPE, text: bool = True,
              **env: str) -> subprocess.Popen[Any]:
        """Start `argv` with the environment plus `env`, stdin closed."""
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                   text=text, env={**os.environ, **env})
        self.started.append(process)
        return process

    def turnout(self, argv: Sequence[str], **env: str) -> subprocess.Popen[str]:
        """`turnout ARGV` as its own process (stdout and stderr piped, text)."""
        return self.start([*TURNOUT, *argv], **env)

    def listening(self, argv: Sequence[str], scheme: str, **env: str) -> tuple[subprocess.Popen[str], str]:
        """A long-running `turnout` command that prints its URL on stdout once it listens
        (`flags serve`, `flags sync --to grpc://`): the process and that URL."""
        process = self.turnout(argv, **env)
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith(scheme):
            stop(process)
            raise AssertionError(f"{' '.join(argv[:2])} did not start: {url!r} "
                                 f"{process.stderr.read()[-2000:] if process.stderr else ''}")
        return process, url

    def stop_all(self) -> None:
        """Stop every process started, last first."""
        for process in reversed(self.started):
            stop(process)
