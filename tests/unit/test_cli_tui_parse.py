"""`turnout demo` (and `turnout` alone) parse with the demo command only, so that the TUI's
first frame does not wait for the other commands; the parse is the one the whole parser makes."""

from __future__ import annotations

import argparse

import pytest

from turnout.backend.cli.parser import build_parser

OPENS_TUI = (
    ["demo"],
    ["demo", "--reset"],
    ["--demo"],
    [],
    ["--seed", "7", "demo", "--read-only"],
    ["-o", "json", "--context=a", "-nshop", "demo"],
    ["--context", "a", "--context", "b", "-A", "--request-timeout", "3s"],
    ["demo", "--kubeconfig", "/nowhere", "--seed=3"],
)
OTHER = (
    ["status"],
    ["--demo", "status", "search"],
    ["-n", "demo", "status"],  # "demo" is the namespace here, not the command
    ["--help"],
    ["--version"],
    ["--bogus", "demo"],
    ["flags", "list"],
)


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices}


@pytest.mark.parametrize("argv", OPENS_TUI, ids=" ".join)
def test_what_opens_the_tui_parses_as_the_whole_parser_does(argv: list[str]) -> None:
    short = build_parser(argv)
    assert _commands(short) == {"demo"}
    assert vars(short.parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", OTHER, ids=" ".join)
def test_every_other_command_line_gets_the_whole_parser(argv: list[str]) -> None:
    assert {"demo", "status", "flags", "guard"} <= _commands(build_parser(argv))


@pytest.mark.parametrize("argv", (["demo", "--bogus"], ["--context"], ["-o", "xml", "demo"],
                                  ["demo", "extra"]), ids=" ".join)
def test_a_usage_error_on_the_short_path_is_the_whole_parsers(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    errors = []
    for parser in (build_parser(argv), build_parser()):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(argv)
        errors.append((exit_.value.code, capsys.readouterr().err))
    assert errors[0] == errors[1] and errors[0][0] == 2


def test_the_front_ends_are_found_by_entry_point() -> None:
    from turnout.backend.cli.front_ends import front_end

    assert [e.value for e in front_end("tui")] == ["turnout.tui.launch:run"]
    assert [e.value for e in front_end("serve")] == ["turnout.tui.launch:serve"]
    assert front_end("no-such-front-end") == ()
