"""`--request-timeout`: kubectl's durations, refused when not positive, and one bound for
every backend call (a black-holed Redis: a local listener that accepts and never answers)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from turnout.backend.errors import InvalidInput
from turnout.backend.timeouts import request_timeout


@pytest.mark.parametrize(("text", "seconds"), [
    ("3s", 3.0), ("1m", 60.0), ("500ms", 0.5), ("2", 2.0), ("1.5", 1.5), ("1m30s", 90.0),
    ("1h", 3600.0), (" 10s ", 10.0)])
def test_kubectl_durations(text: str, seconds: float) -> None:
    assert request_timeout(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["0", "0s", "-1", "-3s", "", "abc", "3x", "s", "1m-2s"])
def test_nothing_but_a_positive_duration(text: str) -> None:
    with pytest.raises(InvalidInput, match="--request-timeout"):
        request_timeout(text)


def turnout(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "turnout.backend", *args], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("text", ["0", "-2s", "soon"])
def test_the_cli_refuses_a_bad_timeout_in_one_line(text: str) -> None:
    done = turnout("--demo", f"--request-timeout={text}", "status")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "--request-timeout" in done.stderr


def test_the_cli_takes_a_kubectl_duration() -> None:
    done = turnout("--demo", "--request-timeout", "3s", "status", "-o", "name")
    assert done.returncode == 0, done.stderr


def test_a_black_holed_redis_ends_within_the_timeout_with_exit_8(black_hole: int) -> None:
    # The config's own timeout is far beyond the subprocess limit: only the option ends it.
    done = turnout("--request-timeout", "2s", "flags", "list",
                   env={"TURNOUT_FLAGS_URL": f"redis://127.0.0.1:{black_hole}/0",
                        "TURNOUT_REQUEST_TIMEOUT": "120"})
    assert done.returncode == 8, done.stderr
    assert "no answer within 2s" in done.stderr


def test_the_environment_takes_the_same_durations() -> None:
    done = turnout("--demo", "status", "-o", "name", env={"TURNOUT_REQUEST_TIMEOUT": "3s"})
    assert done.returncode == 0, done.stderr
    refused = turnout("--demo", "status", env={"TURNOUT_REQUEST_TIMEOUT": "0"})
    assert refused.returncode == 3 and "request_timeout" in refused.stderr
