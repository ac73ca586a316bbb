"""Several contexts side by side (backend/contexts.py) without a cluster: a demo context and
a black-holed one, read concurrently, each under its own bound; the CLI's --context list and
its refusal of several contexts for a verb."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from turnout.backend.assembly import Options, build_contexts
from turnout.backend.cli.context import CliContext
from turnout.backend.cli.parser import build_parser
from turnout.backend.config import Config, ContextSettings
from turnout.backend.contexts import GSLB_NOTE, Contexts
from turnout.backend.demo import build_demo_service
from turnout.backend.errors import InvalidInput, NotFound


def kubeconfig(tmp_path: Path, servers: dict[str, str]) -> Path:
    """A kubeconfig with one context per server (no credentials: nothing here authenticates)."""
    lines = ["apiVersion: v1", "kind: Config", f"current-context: {next(iter(servers))}",
             "clusters:"]
    lines += [f"- name: {n}\n  cluster:\n    server: {url}\n    insecure-skip-tls-verify: true"
              for n, url in servers.items()]
    lines += ["contexts:"] + [f"- name: {n}\n  context:\n    cluster: {n}\n    user: u"
                              for n in servers]
    lines += ["users:", "- name: u\n  user: {}"]
    path = tmp_path / "kubeconfig"
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(*argv: str) -> CliContext:
    return CliContext(args=build_parser().parse_args(list(argv)), config=Config())


def test_context_is_repeatable_and_comma_separated_in_order_once_each() -> None:
    assert cli("--context", "a,b", "--context", "c", "status").contexts == ["a", "b", "c"]
    assert cli("status", "--context", "b", "--context", "a,b").contexts == ["b", "a"]
    assert cli("--context", "a", "status").several_contexts is False
    assert cli("--all-contexts", "status").several_contexts is True


def test_a_verb_refuses_several_contexts_in_one_line() -> None:
    with pytest.raises(InvalidInput, match=r"acts in one context.*a, b"):
        cli("--context", "a,b", "switch", "shop", "--to", "green").one_context()
    with pytest.raises(InvalidInput, match="--context: a context name cannot be empty"):
        _ = cli("--context", "a,", "status").contexts
    done = subprocess.run([sys.executable, "-m", "turnout.backend", "--context", "x,y", "switch",
                           "shop", "--to", "green", "--yes"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == InvalidInput.exit_code and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "one context" in done.stderr


async def test_a_black_holed_context_is_unavailable_and_never_holds_up_the_live_one(
        tmp_path: Path, black_hole: int) -> None:
    path = kubeconfig(tmp_path, {"hole": f"https://127.0.0.1:{black_hole}"})
    config = Config(contexts={"hole": ContextSettings(request_timeout=0.5, read_only=True)})
    holed = build_contexts(config, Options(kubeconfig=str(path)), ["hole"])
    view = Contexts({"demo": build_demo_service(), "hole": holed.services["hole"]},
                    {"demo": 30.0, "hole": holed.timeouts["hole"]})
    try:
        demo, hole = await view.apps()
    finally:
        await view.close()
    assert (demo.context, demo.state, demo.error) == ("demo", "live", "")
    assert {a.name for a in demo.apps} >= {"checkout", "search"}
    assert hole.state == "unavailable" and hole.apps == ()
    assert hole.timeout == 0.5 and hole.read_only is True
    assert hole.error


def test_a_context_that_cannot_be_built_stays_in_the_view_as_an_error(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, {"a": "https://127.0.0.1:1"})
    view = build_contexts(Config(), Options(kubeconfig=str(path)), ["a", "missing"])
    assert view.names == ("a", "missing") and "missing" in view.broken
    assert "not in kubeconfig" in str(view.broken["missing"])
    with pytest.raises(InvalidInput, match="one context, not 2"):
        view.one()


def test_all_contexts_reads_every_context_current_first(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, {"zeta": "https://127.0.0.1:1", "alpha": "https://127.0.0.1:2"})
    view = build_contexts(Config(), Options(kubeconfig=str(path)), every=True)
    assert view.names == ("zeta", "alpha")


async def test_failover_shows_both_and_switches_the_backups_app() -> None:
    view = Contexts({"primary": build_demo_service(), "backup": build_demo_service()},
                    {"primary": 30.0, "backup": 30.0})
    try:
        primary = await view.service("primary").app("search")
        backup = await view.service("backup").app("search")
        plan = await view.plan_failover("search", "primary", "backup")
        live_version = primary.slot(primary.traffic.live).version
        assert backup.slot(plan.color).version == live_version
        assert plan.primary.apps[0].name == plan.backup.apps[0].name == "search"
        assert plan.note == GSLB_NOTE and "outside Turnout" in plan.note
        other = "green" if plan.color == "blue" else "blue"
        forced = await view.plan_failover("search", "primary", "backup", color=other)
        done = await view.failover(forced)
        assert done.after.live == other and done.after.weights.of(other) == 100
        assert (await view.service("backup").app("search")).traffic.live == other
        assert (await view.service("primary").app("search")).traffic == primary.traffic
        with pytest.raises(InvalidInput, match="two contexts"):
            await view.plan_failover("search", "backup", "backup")
        with pytest.raises(NotFound):
            await view.plan_failover("search", "primary", "elsewhere")
    finally:
        await view.close()


def test_failover_parses_its_two_contexts() -> None:
    args = build_parser().parse_args(["failover", "shop", "--from", "a", "--to", "b"])
    assert (args.primary, args.backup, args.color) == ("a", "b", None)
    assert isinstance(args, argparse.Namespace)
