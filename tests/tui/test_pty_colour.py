"""NO_COLOR and a dumb terminal get no colour escapes from the TUI; the cursor row is still
shown (reverse video), and every state keeps its icon and word."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest

from tests.tui.test_pty_injection import _read_for, _read_until


def _colour_codes(out: bytes) -> set[bytes]:
    """SGR sequences that set a colour other than the terminal's default (39/49)."""
    codes = set()
    for params in re.findall(rb"\x1b\[([0-9;]*)m", out):
        parts = params.split(b";")
        if any(p in (b"38", b"48") for p in parts) or any(
                p.isdigit() and (30 <= int(p) <= 37 or 40 <= int(p) <= 47 or 90 <= int(p) <= 107)
                for p in parts):
            codes.add(params)
    return codes


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"TERM": "xterm-256color", "NO_COLOR": "1"}],
                         ids=["dumb", "no-color"])
def test_no_colour_escapes(env: dict[str, str]) -> None:
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "turnout.backend", "demo"], stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True,
                            env={**os.environ, "COLUMNS": "80", "LINES": "24", **env})
    os.close(slave)
    try:
        written = _read_until(master, b"checkout", 60.0)
        written += _read_for(master, 1.0)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(10)
        os.close(master)
    assert b"healthy" in written, "the overview never drew"
    assert _colour_codes(written) == set()
    assert re.search(rb"\x1b\[[0-9;]*\b7\b[0-9;]*m", written), "the cursor row is not shown"


def test_a_colour_terminal_still_gets_colour() -> None:
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "turnout.backend", "demo"], stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True,
                            env={**{k: v for k, v in os.environ.items() if k != "NO_COLOR"},
                                 "COLUMNS": "80", "LINES": "24", "TERM": "xterm-256color"})
    os.close(slave)
    try:
        written = _read_until(master, b"checkout", 60.0)
    finally:
        proc.kill()
        proc.wait(10)
        os.close(master)
    assert _colour_codes(written), "the check above would pass on anything"
