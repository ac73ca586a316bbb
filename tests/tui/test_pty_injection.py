"""Hostile text in cluster objects never reaches the terminal as control sequences.

The real Textual driver runs in a pseudo-terminal; every byte it writes is read
back and searched for the payloads.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.lab import conftest as lab_conftest

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


def _drawn_unreversed(data: bytes, label: bytes) -> bool:
    """Whether `data` draws `label` other than in reverse video (how Textual draws the focused
    button): the attributes are the last SGR sequence before it."""
    at = data.find(label)
    while at >= 0:
        codes = re.findall(rb"\x1b\[([0-9;]*)m", data[max(0, at - 300):at])
        if codes:
            reverse, params = False, iter(codes[-1].split(b";"))
            for code in params:
                if code in (b"38", b"48", b"58"):  # a colour: its arguments are no attributes
                    for _ in range(1 if next(params, b"") == b"5" else 3):
                        next(params, b"")
                reverse = {b"": False, b"0": False, b"7": True, b"27": False}.get(code, reverse)
            if not reverse:
                return True
        at = data.find(label, at + 1)
    return False


class Terminal:
    """The TUI in a pseudo-terminal: keys in, every byte it writes kept in `written`."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     close_fds=True)
        os.close(slave)
        self.written = b""

    def keys(self, data: bytes, until: bytes = b"", seconds: float = 45.0) -> None:
        """Type `data`, then read until `until` is shown (or, without it, a moment): it must
        be, and the TUI must still run."""
        if data:
            os.write(self.master, data)
        if until:
            # After a key, only what the key made counts: a marker already on the screen (a
            # footer's label, say) would let the next key race the screen it waits for.
            seen = b"" if data else self.written
            fresh = _read_until(self.master, until, seconds, seen)
            self.written += fresh
            assert until in seen + fresh, f"{until!r} never shown after {data!r}"
        else:
            self.pause(1.0)
        assert self.proc.poll() is None, f"the TUI exited after {data!r}: markup was executed"

    def focus_leaves(self, data: bytes, label: bytes, seconds: float = 45.0) -> None:
        """Type `data` (a Tab), then read until the button `label` is redrawn unfocused: a key
        sent before the focus has moved still reaches the old focus, and a pause is no proof
        on a loaded machine (both keys then arrive in one read)."""
        os.write(self.master, data)
        fresh = b""
        deadline = time.monotonic() + seconds
        while not _drawn_unreversed(fresh, label) and time.monotonic() < deadline:
            fresh += _read_for(self.master, 0.2)
        self.written += fresh
        assert _drawn_unreversed(fresh, label), f"the focus never left {label!r} after {data!r}"
        assert self.proc.poll() is None, f"the TUI exited after {data!r}: markup was executed"

    def pause(self, seconds: float) -> None:
        """Read for `seconds` (a lone ESC is told from alt+key by a pause)."""
        self.written += _read_for(self.master, seconds)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        os.close(self.master)


def test_escape_sequences_and_markup_stay_inert_on_a_real_terminal() -> None:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "140", "LINES": "40"}
    term = Terminal([sys.executable, "-c", HOSTILE_APP], env)
    try:
        term.keys(b"", b"search", 30.0)
        term.keys(b"\x1b[B")  # the cursor from payments down to search
        term.keys(b"\r", b"BackOff", 30.0)  # open it
        term.keys(b"\t")  # to the green pods, the hostile one first
        term.keys(b"\r", b"hostile-note", 30.0)  # describe it, with the hostile annotation
        term.keys(b"\x1b")  # back to the app
        term.pause(0.5)
        term.keys(b"f", b"evil-flag", 30.0)  # the flags screen, with the hostile description
        term.keys(b"")
    finally:
        term.close()
    written = term.written
    assert b"evil" in written, "the hostile pod never reached the screen: the test proves nothing"
    assert b"PWNED-TITLE" not in written and b"FLAG-TITLE" not in written
    assert b"hostile-note=ann" in written, "the hostile annotation never reached the screen"
    assert b"ANNO-TITLE" not in written
    assert b"evil-flag" in written and b"desc" in written, "the hostile flag never reached the screen"
    assert b"BackOff" in written, "the event about the hostile pod never reached the screen"
    assert b"UFdORUQ=" not in written  # OSC 52 clipboard payload
    assert b"\xe2\x80\xae" not in written  # U+202E right-to-left override
    assert b"@click=app.quit" in written, "the markup text should be shown literally"


# --- against the lab: every outside source that reaches the screen, on a real cluster --------

def _hostile(tag: str) -> str:
    """Markup that would crash (`[/]` unbalanced) or act (`@click`), and an OSC that would
    retitle the window, tagged so the test can tell which source leaked."""
    return f"{tag.lower()} [/] [@click=app.quit]x[/] \x1b]0;{tag}-TITLE\x07\x1b[2J"


TITLES = [b"LEASE-TITLE", b"IMAGE-TITLE", b"ANNO-TITLE", b"EVENT-TITLE", b"LOG-TITLE", b"FLAG-TITLE",
          b"LDNAME-TITLE"]


def _arrange_hostile_cluster(lab, namespace: str, logs_dir) -> None:  # type: ignore[no-untyped-def]
    """A hostile image on the idle color, and on every pod a hostile annotation, log and Event."""
    import json

    from tests.kube.conftest import get, kubectl, seed_app
    from tests.lab.podlogs import arrange_logs

    seed_app(lab, namespace, "shop", "nginx")
    image = "registry.example/shop:1.5.0-" + _hostile("IMAGE")
    kubectl(lab, "-n", namespace, "patch", "deployment", "shop-green", "--type=json", "-p", json.dumps(
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image}]))
    kubectl(lab, "-n", namespace, "rollout", "status", "deployment/shop-green", "--timeout=90s")
    api = lab.api_client()
    # Ahead of now: the app screen shows the newest four Events, and the rollout's own
    # (Killing, Scheduled…) may still be arriving.
    now = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        for pod in get(lab, namespace, "pods")["items"]:
            name = pod["metadata"]["name"]
            kubectl(lab, "-n", namespace, "annotate", "pod", name, "hostile-note=" + _hostile("ANNO"))
            arrange_logs(api, namespace, name, ["LOGLINE " + _hostile("LOG")], logs_dir)
            event = {"apiVersion": "v1", "kind": "Event",
                     "metadata": {"name": f"{name}.hostile", "namespace": namespace},
                     "involvedObject": {"kind": "Pod", "name": name, "namespace": namespace},
                     "reason": "HostileReason", "message": "EVENTMSG " + _hostile("EVENT"),
                     "type": "Warning", "count": 1,
                     "firstTimestamp": now, "lastTimestamp": now}
            kubectl(lab, "apply", "-f", "-", stdin=json.dumps(event))
    finally:
        api.close()


def _hostile_lease(lab, namespace: str) -> None:  # type: ignore[no-untyped-def]
    """Another operator's live lock whose holder identity is hostile."""
    import json

    from tests.kube.conftest import kubectl
    from tests.kube.test_lab_lock import _now_micro
    from turnout.backend.kube.lock import lease_name

    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": lease_name("shop"), "namespace": namespace,
                          "labels": {"app.kubernetes.io/managed-by": "turnout"}},
             "spec": {"holderIdentity": "mallory@" + _hostile("LEASE"), "leaseDurationSeconds": 900,
                      "renewTime": _now_micro()}}
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps(lease))


async def _hostile_flag(redis_url: str) -> None:
    from turnout.backend.flags.model import Flag
    from turnout.backend.flags.urls import open_store
    from turnout.backend.gate import WriteGate

    store = open_store(redis_url, WriteGate())
    try:
        await store.accept_empty(by="test", reason="a new prefix")  # a new store starts reset
        await store.put(Flag(key="evil-flag", description="FLAGDESC " + _hostile("FLAG")),
                        expected_version=None, by="test", reason="")
    finally:
        await store.close()


def _launchdarkly_flags_screen(tui: list[str], env: dict[str, str]) -> bytes:
    """The flags screen over LaunchDarkly (the local stand-in), one flag named with hostile
    text and no description, so its name is what the screen shows."""
    from tests.flags.ld_standin import StandIn

    standin = StandIn("ld-test-token")
    template = next(iter(standin.flags.values()))
    hostile = {**template, "key": "evil-ld", "name": "LDNAME " + _hostile("LDNAME"), "description": ""}
    standin.flags = {"evil-ld": hostile, **standin.flags}  # first: under the cursor
    standin.start()
    term = Terminal(tui, {**env, "TURNOUT_FLAGS_URL": "launchdarkly://shop/production",
                          "LD_API_KEY": "ld-test-token", "LD_BASE_URL": standin.base_url})
    try:
        term.keys(b"", b"shop", 60.0)
        term.keys(b"f", b"evil-ld")
        term.keys(b"", b"LDNAME")  # the name, as the flag's description
    finally:
        term.close()
        standin.stop()
    return term.written


lab = lab_conftest.lab
kube = lab_conftest.kube
lab_namespace = lab_conftest.lab_namespace


@pytest.mark.lab
async def test_every_outside_source_stays_inert_on_a_real_terminal_against_the_lab(
        lab, lab_namespace: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Lease holder, image, annotation, Event, log line, flag description, LaunchDarkly flag
    name and an error's text,
    each hostile, driven through the screens that show them: the TUI neither crashes nor
    obeys them, and shows them as text."""
    _arrange_hostile_cluster(lab, lab_namespace, tmp_path)
    flags_url = f"{lab.env['redis_url']}?prefix=turnout-test:{lab_namespace}"
    await _hostile_flag(flags_url)
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "140", "LINES": "45",
           "TURNOUT_FLAGS_URL": flags_url}
    tui = [sys.executable, "-c", "import sys; from turnout.backend.cli import main; sys.exit(main())",
           "--kubeconfig", lab.kubeconfig, "--context", "lab", "-n", lab_namespace]
    term = Terminal(tui, env)
    try:
        term.keys(b"", b"shop", 60.0)
        term.keys(b"\r", b"HostileReason")  # the app: image in the idle color, the Event tail
        term.keys(b"", b"shop:1.5.0-image [/]")
        term.keys(b"a", b"Abort: ")  # a confirmation, then someone takes the lock underneath it
        _hostile_lease(lab, lab_namespace)
        term.focus_leaves(b"\t", b"Cancel")  # from Cancel to Abort, seen to move before Enter
        term.keys(b"\r", b"mallory")  # the write is refused: the error names the holder
        term.keys(b"", b"actions unavailable")  # the app screen learns of the lock
        term.keys(b"a", b"Not available")  # greyed out now: the refusal names the holder again
        term.keys(b"\t")  # to the green pods
        term.keys(b"\r", b"hostile-note")  # a pod described: annotation, events, log tail
        term.keys(b"", b"LOGLINE")
        term.keys(b"\x1b")
        term.pause(0.5)
        term.keys(b"f", b"FLAGDESC")  # the flags screen
        term.keys(b" ", b"Turn ON")  # the toggle confirmation titled with the flag's key
        term.keys(b"\x1b")
    finally:
        term.close()
    written = term.written + _launchdarkly_flags_screen(tui, env)
    for title in TITLES:
        assert title not in written, f"{title!r}: an escape sequence reached the terminal"
    assert b"[@click=app.quit]x[/]" in written, "the markup text should be shown literally"
    for source in (b"lease", b"image", b"anno", b"event", b"log", b"flag", b"ldname"):
        assert source + b" [/] [@click=app.quit]" in written, f"{source!r} was not shown as text"
