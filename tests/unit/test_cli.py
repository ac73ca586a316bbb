"""The headless CLI as a pipeline calls it: a subprocess, stdout data, stderr one line."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml


def turnout(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "turnout.backend", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_status_json_has_the_documented_schema() -> None:
    done = turnout("--demo", "status", "-o", "json")
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)["items"]
    assert {i["name"] for i in items} == {"checkout", "search", "payments"}
    for item in items:
        assert item["live"] in ("blue", "green")
        assert sum(item["weights"].values()) == 100
        for color in ("blue", "green"):
            assert {"ready", "desired", "version"} <= item["colors"][color].keys()


def test_yaml_name_and_table_outputs() -> None:
    assert yaml.safe_load(turnout("--demo", "status", "search", "-o", "yaml").stdout)["name"] == "search"
    assert "app/shop/checkout" in turnout("--demo", "status", "-o", "name").stdout.splitlines()
    table = turnout("--demo", "status").stdout.splitlines()
    assert table[0].split()[:3] == ["NAMESPACE", "APP", "LIVE"] and len(table) == 4


def test_unknown_app_exits_not_found_with_one_line() -> None:
    done = turnout("--demo", "status", "nope")
    assert done.returncode == 4
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1


def test_no_kubeconfig_points_at_the_demo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run([sys.executable, "-m", "turnout.backend", "status"], capture_output=True,
                          text=True, timeout=60, env={"HOME": str(tmp_path), "PATH": "/usr/bin"})
    assert done.returncode == 3
    assert "turnout demo" in done.stderr and "Traceback" not in done.stderr


def test_a_write_in_a_script_requires_yes() -> None:
    done = turnout("--demo", "weight", "search", "50")
    assert done.returncode == 2 and "--yes" in done.stderr


def test_a_write_with_yes_prints_the_result_as_json() -> None:
    done = turnout("--demo", "weight", "search", "50", "--yes", "-o", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["after"]["weights"] == {"blue": 50, "green": 50}


def test_read_only_refuses_with_its_exit_code() -> None:
    done = turnout("--demo", "--read-only", "rollback", "search", "--yes")
    assert done.returncode == 7 and "read-only" in done.stderr


def test_bad_weight_is_invalid_input() -> None:
    done = turnout("--demo", "weight", "search", "150", "--yes")
    assert done.returncode == 2 and "0..100" in done.stderr


def test_the_demo_remembers_between_commands_until_reset() -> None:
    assert turnout("--demo", "weight", "search", "50", "--yes").returncode == 0
    after = json.loads(turnout("--demo", "status", "search", "-o", "json").stdout)
    assert after["weights"] == {"blue": 50, "green": 50}
    reset = turnout("demo", "--reset")
    assert reset.returncode == 0 and "seed" in reset.stderr
    seeded = json.loads(turnout("--demo", "status", "search", "-o", "json").stdout)
    assert seeded["weights"] == {"blue": 90, "green": 10}


def test_the_demo_remembers_its_flags_until_reset() -> None:
    assert turnout("--demo", "flags", "off", "new-checkout", "--yes").returncode == 0
    flag = json.loads(turnout("--demo", "flags", "get", "new-checkout", "-o", "json").stdout)
    assert flag["on"] is False
    history = turnout("--demo", "flags", "history", "new-checkout")
    assert history.returncode == 0 and " off" in history.stdout
    assert turnout("demo", "--reset").returncode == 0
    seeded = json.loads(turnout("--demo", "flags", "get", "new-checkout", "-o", "json").stdout)
    assert seeded["on"] is True


def test_the_demo_remembers_its_releases_until_reset() -> None:
    def releases() -> list[str]:
        done = turnout("--demo", "history", "checkout", "-o", "json")
        assert done.returncode == 0, done.stderr
        return [r["image"] for r in json.loads(done.stdout)["releases"]]

    image = "registry.demo/checkout:9.9.9"
    assert image not in releases()
    deploy = turnout("--demo", "deploy", "checkout", "--image", image, "--strategy", "instant",
                     "--analysis", "2s", "--yes")
    assert deploy.returncode == 0, deploy.stderr
    assert image in releases()
    live = json.loads(turnout("--demo", "status", "checkout", "-o", "json").stdout)
    assert live["colors"][live["live"]]["image"] == image
    assert turnout("demo", "--reset").returncode == 0
    assert image not in releases()


def test_a_usage_error_is_one_line_and_a_hint() -> None:
    done = turnout("weight", "search")
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["error: the following arguments are required: percent",
                                        "see 'turnout weight --help'"]


def test_global_flags_are_accepted_after_any_command() -> None:
    listed = turnout("flags", "list", "--demo", "--read-only", "-n", "shop")
    assert listed.returncode == 0, listed.stderr
    assert "new-checkout" in listed.stdout
    armed = turnout("guard", "--arm", "search", "--demo", "--read-only")
    assert armed.returncode == 7 and "read-only" in armed.stderr


def test_options_are_never_abbreviated_so_a_command_option_never_clashes_with_a_global() -> None:
    # `flags bucketing --all` beside the global --all-contexts / --all-namespaces.
    planned = turnout("flags", "bucketing", "concat", "--all", "--demo", "--dry-run")
    assert planned.returncode == 0, planned.stderr
    abbreviated = turnout("status", "--all-name", "--demo")
    assert abbreviated.returncode == 2 and "unrecognized arguments: --all-name" in abbreviated.stderr


def test_the_terminal_prompt_names_where_and_what_before_and_after() -> None:
    import os
    import pty
    import select
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "turnout.backend", "--demo", "weight", "search", "50"],
                            stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    shown = b""
    try:
        deadline = time.monotonic() + 60
        while b"[y/N]" not in shown and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                shown += os.read(master, 4096)
        os.write(master, b"n\n")
        assert proc.wait(30) == 10  # cancelled
    finally:
        proc.kill()
        os.close(master)
    prompt = shown.decode()
    # the backend's one confirmation line, the same the TUI's confirmation states
    assert "weight search/search in context demo: live blue -> blue" in prompt
    assert "blue/green 90/10 -> 50/50? [y/N]" in prompt
    assert json.loads(turnout("--demo", "status", "search", "-o", "json").stdout)["weights"]["blue"] == 90
