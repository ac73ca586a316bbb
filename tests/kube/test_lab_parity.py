"""One backend path for every verb, against the lab: the TUI (Pilot) and the CLI (a
subprocess) leave the same cluster state, the same audit record (verb, before, after, who)
and the same refusal under read-only. A TUI abort stops a deploy in flight driven by another
process, as the CLI's does. Panic puts traffic back on the stable color and turns the app's
linked flags off in the lab's Redis, both audited."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.kube.conftest import REPO, kubectl, turnout
from tests.lab.conftest import Lab
from tests.release.test_lab_release import WEIGHT, canary_weight, deploy, selector, wait_for
from turnout.backend.assembly import Options, build_service
from turnout.backend.config import Config
from turnout.backend.flags.model import Flag, Meta
from turnout.backend.flags.redis_store import RedisStore
from turnout.backend.gate import WriteGate
from turnout.backend.service import ReleaseService
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.screens.confirm import ConfirmScreen
from turnout.tui.screens.flags import FlagsScreen
from turnout.tui.screens.rollback import RollbackScreen
from turnout.tui.screens.slot import SlotScreen
from turnout.tui.screens.weight import WeightScreen

pytestmark = pytest.mark.lab

# (verb, TUI key, whether the TUI asks for the app name, CLI arguments after the app name)
VERBS = [
    ("step", "s", False, ()),
    ("weight", "w", False, ("30",)),
    ("promote-full", "P", True, ("--full",)),
    ("abort", "a", False, ()),
    ("rollback", "b", True, ()),
    ("panic", "exclamation_mark", True, ()),
    ("scale", "S", False, ("green", "2")),
    ("set-image", "i", False, ("green", "registry.local/shop:2.0")),
]
CLI_VERB = {"promote-full": "promote"}
AUDITED = {"panic": "abort", "scale": "scale-green", "set-image": "set-image-green"}
"""The first audit record's action, where it is not the verb's name."""
NOTES: list[str] = []
"""The toasts of the latest TUI session, for failure messages."""


@pytest.fixture
def session(lab: Lab, lab_namespace: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """One audit trail and one Redis flag prefix for the CLI and the TUI of this test."""
    url = f"{lab.env['redis_url']}?prefix=turnout:flags:{lab_namespace}"
    env = {"TURNOUT_STATE_DIR": str(tmp_path / "state"), "TURNOUT_FLAGS_URL": url,
           "TURNOUT_CONFIG": str(tmp_path / "config.yaml")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env


def seed(lab: Lab, namespace: str, names: list[str]) -> None:
    """Blue/green nginx apps (blue live, 10 % on green), all applied at once, then ready."""
    import sys

    sys.path.insert(0, str(REPO / "lab"))
    from lablib.seed import DemoApp, app_objects

    items = [o for name in names for o in app_objects(DemoApp(name, namespace, "nginx"),
                                                          {"blue": "", "green": ""})
             if o["kind"] != "Namespace"]
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                       "items": items}))
    kubectl(lab, "-n", namespace, "wait", "--for=condition=Available", "--timeout=120s",
            *(f"deployment/{n}-{c}" for n in names for c in ("blue", "green")))


async def linked_flag(url: str, app: str) -> str:
    store = RedisStore(url, WriteGate())
    try:
        await store.accept_empty(by="test", reason="a new prefix")  # a new store starts reset
        await store.put(Flag(key=f"{app}-flag", on=True, meta=Meta(app=app)),
                        expected_version=None, by="test", reason="seed")
    finally:
        await store.close()
    return f"{app}-flag"


async def flag_on(url: str, key: str) -> bool:
    store = RedisStore(url, WriteGate())
    try:
        return (await store.get(key)).on
    finally:
        await store.close()


def lab_service(lab: Lab, namespace: str, *, read_only: bool = False) -> ReleaseService:
    return build_service(Config(request_timeout=5.0, flags_url=os.environ["TURNOUT_FLAGS_URL"]),
                         Options(kubeconfig=lab.kubeconfig, context="lab", namespace=namespace,
                                 read_only=read_only))


@asynccontextmanager
async def app_screen(lab: Lab, namespace: str, name: str, key: str, *,
                     read_only: bool) -> AsyncIterator[tuple[TurnoutApp, Any]]:
    """A TUI session on the lab with the app's screen open (its access check done) and `key`
    pressed; on leaving, its toasts are kept in `NOTES` and the service is closed."""
    service = lab_service(lab, namespace, read_only=read_only)
    app = TurnoutApp(service, Config(), live=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, lambda: bool(app.apps))
            app.push_screen(AppScreen(name, namespace))
            await _until(pilot, lambda: isinstance(app.screen, AppScreen) and app.screen.selected)
            await app.workers.wait_for_complete()  # the screen's access check
            await pilot.press(key)
            yield app, pilot
            await app.workers.wait_for_complete()
            await pilot.pause()
            NOTES[:] = [str(n.message) for n in app._notifications]
    finally:
        await service.close()


async def tui_verb(lab: Lab, namespace: str, name: str, key: str, *, typed: bool,
                   percent: str = "", value: str = "", read_only: bool = False) -> bool:
    """Press `key` on the app's screen and confirm; whether a confirmation was asked at all."""
    async with app_screen(lab, namespace, name, key, read_only=read_only) as (app, pilot):
        if key == "b" and not read_only:  # the rollback dialog: the previous color first
            await _until(pilot, lambda: isinstance(app.screen, RollbackScreen)
                         and app.screen.is_mounted)
            await pilot.press("enter")
        if percent and not read_only:
            await _until(pilot, lambda: isinstance(app.screen, WeightScreen) and app.screen.is_mounted)
            await pilot.press(*percent, "enter")
        if value and not read_only:  # the idle color (green) is offered: type the value
            await _until(pilot, lambda: isinstance(app.screen, SlotScreen)
                         and getattr(app.screen.focused, "id", "") == "value")
            await pilot.press(*value, "enter")
        asked = await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen),
                             tries=20 if read_only else 1200)
        if asked:
            await _confirm(app, pilot, name if typed else "")
    return asked


async def _confirm(app: TurnoutApp, pilot: Any, typed: str) -> None:
    # the modal focuses Cancel when it mounts: act only after that
    await _until(pilot, lambda: app.screen.focused is not None and app.screen.focused.id == "cancel")
    if typed:
        app.screen.query_one("#typed").focus()  # applied later: keys before then reach Cancel
        await _until(pilot, lambda: getattr(app.screen.focused, "id", "") == "typed")
        await pilot.press(*typed, "enter")
    else:
        await pilot.press("tab", "enter")


async def _until(pilot: Any, check: Any, tries: int = 1200) -> bool:  # 60 s: the lab, loaded
    for _ in range(tries):
        if check():
            return True
        await pilot.pause(0.05)
    return bool(check())


def audit_of(env: dict[str, str], app: str) -> list[dict[str, Any]]:
    """The app's audit records (its flags' too), with the app's name made neutral."""
    path = Path(env["TURNOUT_STATE_DIR"]) / "audit.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    mine = [e for e in entries if e["app"] == app]
    return [json.loads(json.dumps({k: e[k] for k in ("action", "before", "after", "who",
                                                      "context", "dry_run")}).replace(app, "APP"))
            for e in mine]


async def state_of(lab: Lab, namespace: str, name: str) -> tuple[object, ...]:
    service = lab_service(lab, namespace)
    try:
        app = await service.app(name, namespace)
    finally:
        await service.close()
    return (app.traffic.live, app.traffic.weights, app.lock_holder,
            *((s.desired, s.image.replace(name, "APP")) for s in (app.blue, app.green)))


@pytest.mark.parametrize(("verb", "key", "typed", "extra"), VERBS, ids=[v[0] for v in VERBS])
async def test_the_tui_and_the_cli_reach_the_same_state_audit_and_refusal(
        lab: Lab, lab_namespace: str, session: dict[str, str], verb: str, key: str,
        typed: bool, extra: tuple[str, ...]) -> None:
    ns = lab_namespace
    # no "-" in the names: the TUI's typed confirmation is typed key by key
    cli_app, tui_app = f"c{verb.replace('-', '')}", f"t{verb.replace('-', '')}"
    seed(lab, ns, [cli_app, tui_app])
    url = session["TURNOUT_FLAGS_URL"]
    flags = {a: await linked_flag(url, a) for a in (cli_app, tui_app)}
    seeded = await state_of(lab, ns, cli_app)
    assert seeded == await state_of(lab, ns, tui_app)
    args = (CLI_VERB.get(verb, verb), cli_app, *extra)

    # read-only: the CLI refuses with exit 7, the TUI offers nothing; nothing changes
    refused = turnout(lab, "-n", ns, "--read-only", *args, "--yes")
    assert refused.code == 7 and "read-only" in refused.err, refused.err
    assert not await tui_verb(lab, ns, tui_app, key, typed=typed, read_only=True)
    assert await state_of(lab, ns, cli_app) == seeded == await state_of(lab, ns, tui_app)

    done = turnout(lab, "-n", ns, *args, "--yes")
    assert done.code == 0, done.err
    slot_value = extra[1] if verb in ("scale", "set-image") else ""
    assert await tui_verb(lab, ns, tui_app, key, typed=typed, percent="30" if "30" in extra else "",
                          value=slot_value)
    assert await state_of(lab, ns, cli_app) == await state_of(lab, ns, tui_app) != seeded, NOTES
    cli_audit, tui_audit = audit_of(session, cli_app), audit_of(session, tui_app)
    assert cli_audit and cli_audit == tui_audit
    assert cli_audit[0]["action"] == AUDITED.get(verb, verb)
    panicked = verb == "panic"
    for app in (cli_app, tui_app):
        assert await flag_on(url, flags[app]) is not panicked
    if panicked:
        assert [e["action"] for e in cli_audit] == ["abort", "flag-off"]
        assert selector(lab, ns, cli_app) == "blue"
        assert _weight(lab, ns, cli_app) == _weight(lab, ns, tui_app) == "0"


def _weight(lab: Lab, ns: str, app: str) -> str:
    from tests.kube.conftest import get

    return str(get(lab, ns, f"ingress/{app}-canary")["metadata"]["annotations"][WEIGHT])


async def test_a_flag_turned_off_in_the_tui_and_the_cli_is_audited_alike(
        lab: Lab, lab_namespace: str, session: dict[str, str]) -> None:
    url = session["TURNOUT_FLAGS_URL"]
    cli_flag, tui_flag = await linked_flag(url, "c-app"), await linked_flag(url, "t-app")
    refused = turnout(lab, "flags", "off", cli_flag, "--yes", "--read-only")
    assert refused.code == 7 and await flag_on(url, cli_flag)
    done = turnout(lab, "flags", "off", cli_flag, "--yes")
    assert done.code == 0, done.err
    service = lab_service(lab, lab_namespace)
    app = TurnoutApp(service, Config(), live=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.push_screen(FlagsScreen())
            await _until(pilot, lambda: isinstance(app.screen, FlagsScreen)
                         and any(f.key == tui_flag for f in app.screen.flags))
            screen = app.screen
            assert isinstance(screen, FlagsScreen)
            while screen.selected is None or screen.selected.key != tui_flag:
                await pilot.press("down")
            await pilot.press("space")
            assert await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await _confirm(app, pilot, "")
            await app.workers.wait_for_complete()
    finally:
        await service.close()
    assert not await flag_on(url, cli_flag) and not await flag_on(url, tui_flag)
    cli_audit, tui_audit = audit_of(session, "c-app"), audit_of(session, "t-app")
    assert [e["action"] for e in cli_audit] == ["flag-off"]
    assert cli_audit == tui_audit


async def test_an_abort_in_the_tui_stops_a_deploy_driven_by_another_process(
        lab: Lab, lab_namespace: str, session: dict[str, str]) -> None:
    ns = lab_namespace
    seed(lab, ns, ["shop"])
    kubectl(lab, "-n", ns, "annotate", "--overwrite", "ingress/shop-canary", f"{WEIGHT}=0")
    proc = subprocess.Popen(deploy(lab, ns, "registry.local/shop:1.6.0", "--pause", "manual"),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        wait_for(lambda: canary_weight(lab, ns) == "10", proc, timeout=90)
        assert await tui_verb(lab, ns, "shop", "a", typed=False)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 21, err
    assert json.loads(out)["outcome"] == "aborted"
    assert (selector(lab, ns, "shop"), canary_weight(lab, ns)) == ("blue", "0")


async def test_panic_from_the_cli_in_a_script_needs_yes_and_dry_run_writes_nothing(
        lab: Lab, lab_namespace: str, session: dict[str, str]) -> None:
    ns = lab_namespace
    seed(lab, ns, ["shop"])
    url = session["TURNOUT_FLAGS_URL"]
    key = await linked_flag(url, "shop")
    refused = turnout(lab, "-n", ns, "panic", "shop")
    assert refused.code == 2 and "--yes" in refused.err and key in refused.err
    dry = turnout(lab, "-n", ns, "panic", "shop", "--dry-run")
    assert dry.code == 0, dry.err
    assert f"flags would turn off: {key}" in dry.out
    assert canary_weight(lab, ns) == "10" and await flag_on(url, key)
    done = turnout(lab, "-n", ns, "panic", "shop", "--yes", "--reason", "INC-7")
    assert done.code == 0, done.err
    assert (selector(lab, ns, "shop"), canary_weight(lab, ns)) == ("blue", "0")
    assert not await flag_on(url, key)
    entries = audit_of(session, "shop")
    assert [e["action"] for e in entries] == ["abort", "flag-off"]
    assert entries[1]["before"]["on"] is True and entries[1]["after"]["on"] is False


async def test_flags_off_in_a_script_needs_yes_and_dry_run_writes_nothing_in_the_lab_redis(
        lab: Lab, session: dict[str, str]) -> None:
    url = session["TURNOUT_FLAGS_URL"]
    key = await linked_flag(url, "shop")
    refused = turnout(lab, "flags", "off", key)  # stdin is /dev/null
    assert refused.code == 2 and "--yes" in refused.err and key in refused.err
    assert await flag_on(url, key)
    dry = turnout(lab, "flags", "off", key, "--dry-run")
    assert dry.code == 0 and f"turn off flag {key}" in dry.out and "dry run" in dry.out
    assert await flag_on(url, key)
    assert not (Path(session["TURNOUT_STATE_DIR"]) / "audit.jsonl").exists()
    done = turnout(lab, "flags", "off", key, "--yes", "--reason", "INC-9")
    assert done.code == 0, done.err
    assert not await flag_on(url, key)
    assert [(e["action"], e["after"]["on"]) for e in audit_of(session, "shop")] == [
        ("flag-off", False)]


async def test_lock_and_unlock_from_the_tui_and_the_cli_are_audited_alike_and_refused_read_only(
        lab: Lab, lab_namespace: str, session: dict[str, str]) -> None:
    ns = lab_namespace
    seed(lab, ns, ["clock", "tlock"])
    refused = turnout(lab, "-n", ns, "--read-only", "lock", "clock")
    assert refused.code == 7 and "read-only" in refused.err, refused.err
    assert not await tui_key(lab, ns, "tlock", "L", read_only=True)
    assert (await state_of(lab, ns, "clock"))[2] == (await state_of(lab, ns, "tlock"))[2] == ""
    assert not (Path(session["TURNOUT_STATE_DIR"]) / "audit.jsonl").exists()

    assert turnout(lab, "-n", ns, "lock", "clock").code == 0
    assert await tui_key(lab, ns, "tlock", "L")
    held = (await state_of(lab, ns, "clock"))[2]
    assert held and held == (await state_of(lab, ns, "tlock"))[2]
    assert turnout(lab, "-n", ns, "unlock", "clock").code == 0
    assert await tui_key(lab, ns, "tlock", "U")
    assert (await state_of(lab, ns, "clock"))[2] == (await state_of(lab, ns, "tlock"))[2] == ""
    cli_audit = audit_of(session, "clock")
    assert [(e["action"], e["before"], e["after"]) for e in cli_audit] == [
        ("lock", {"holder": ""}, {"holder": held}), ("unlock", {"holder": held}, {"holder": ""})]
    assert cli_audit == audit_of(session, "tlock")


async def tui_key(lab: Lab, namespace: str, name: str, key: str, *,
                  read_only: bool = False) -> bool:
    """Press `key` on the app's screen (no confirmation asked); whether it was carried out
    (a finished-action toast), as opposed to refused before anything ran."""
    async with app_screen(lab, namespace, name, key, read_only=read_only):
        pass
    if read_only:
        assert any("Read-only" in note for note in NOTES), NOTES
    return any(f"{namespace}/{name}:" in note for note in NOTES)


async def test_flag_bucketing_from_the_cli_is_written_under_the_services_audit(
        lab: Lab, session: dict[str, str]) -> None:
    url = session["TURNOUT_FLAGS_URL"]
    key = await linked_flag(url, "shop")
    refused = turnout(lab, "flags", "bucketing", "concat", key)  # stdin is /dev/null
    assert refused.code == 2, refused.err
    done = turnout(lab, "flags", "bucketing", "concat", key, "--yes", "--reason", "node clients")
    assert done.code == 0, done.err
    entries = audit_of(session, "shop")
    assert [(e["action"], e["before"]["bucketing"], e["after"]["bucketing"]) for e in entries] == [
        ("flag-bucketing", "cbor", "concat")]
