"""`kube_cmd.register` declares lock, unlock and resume."""

from __future__ import annotations

import argparse

from turnout.backend.cli import kube_cmd


def test_register_adds_the_commands() -> None:
    parser = argparse.ArgumentParser()
    kube_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["resume", "shop", "--back", "--yes"])
    assert (args.func, args.back, args.app) == (kube_cmd.resume, True, "shop")
    args = parser.parse_args(["lock", "shop", "--force"])
    assert (args.func, args.force, args.write) == (kube_cmd.lock, True, True)
