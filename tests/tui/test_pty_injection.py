"""Hostile text in cluster objects never reaches the terminal as control sequences.

The real Textual driver runs in a pseudo-terminal; every byte it writes is read
back and searched for the payloads.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

HOSTILE_APP = r"""
from turnout.backend.config import Config
from turnout.backend.demo import build_demo_service
from turnout.tui.app import TurnoutApp

service = build_demo_service(tick_seconds=10_000)
world = service.cluster.world
slot = world.apps[("search", "search")].slots["green"]
slot.pods[0].name = "evil\x1b]0;PWNED-TITLE\x07\x1b]52;c;UFdORUQ=\x07[@click=app.quit]-pod"
slot.pods[0].restarts = [world.now - 5]  # so a BackOff event about it reaches the event tail
slot.pods[0].annotations["hostile-note"] = "ann\x1b]0;ANNO-TITLE\x07[@click=app.quit]\x1b[2J"
slot.version = "2.8.0\u202eevil\x9b2J"
import asyncio
from turnout.backend.flags.model import Flag
hostile_flag = Flag(key="evil-flag", description="desc\x1b]0;FLAG-TITLE\x07[@click=app.quit]\x1b[2J")
asyncio.run(service.flags.store.put(hostile_flag, expected_version=None, by="t", reason=""))
TurnoutApp(service, Config(), live=False).run()
"""


def _read_for(fd: int, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def _read_until(fd: int, marker: bytes, seconds: float, seen: bytes = b"") -> bytes:
    """Read until `marker` has been written (or the time is up): a loaded machine
    renders late, and a fixed wait would race it."""
    out = b""
    deadline = time.monotonic() + seconds
    while marker not in seen + out and time.monotonic() < deadline:
        out += _read_for(fd, 0.2)
    return out


def test_escape_sequences_and_markup_stay_inert_on_a_real_terminal() -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "140", "LINES": "40"}
    proc = subprocess.Popen([sys.executable, "-c", HOSTILE_APP], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    try:
        written = _read_until(master, b"search", 30.0)
        written += _read_for(master, 1.0)
        os.write(master, b"\x1b[B")  # the cursor from payments down to search
        written += _read_for(master, 1.0)
        os.write(master, b"\r")  # open it
        written += _read_until(master, b"BackOff", 30.0, written)
        os.write(master, b"\t")  # to the green pods, the hostile one first
        written += _read_for(master, 1.0)
        os.write(master, b"\r")  # describe it, with the hostile annotation
        written += _read_until(master, b"hostile-note", 30.0, written)
        os.write(master, b"\x1b")  # back to the app
        written += _read_for(master, 1.5)
        os.write(master, b"f")  # the flags screen, with the hostile description
        written += _read_until(master, b"evil-flag", 30.0, written)
        written += _read_for(master, 1.0)
        assert proc.poll() is None, "the app exited: markup was executed as an action"
    finally:
        proc.kill()
        proc.wait(10)
        os.close(master)
    assert b"evil" in written, "the hostile pod never reached the screen: the test proves nothing"
    assert b"PWNED-TITLE" not in written and b"FLAG-TITLE" not in written
    assert b"hostile-note=ann" in written, "the hostile annotation never reached the screen"
    assert b"ANNO-TITLE" not in written
    assert b"evil-flag" in written and b"desc" in written, "the hostile flag never reached the screen"
    assert b"BackOff" in written, "the event about the hostile pod never reached the screen"
    assert b"UFdORUQ=" not in written  # OSC 52 clipboard payload
    assert b"\xe2\x80\xae" not in written  # U+202E right-to-left override
    assert b"@click=app.quit" in written, "the markup text should be shown literally"
