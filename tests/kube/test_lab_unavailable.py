"""An API server that is down, or accepts and never answers: Unavailable within the timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.kube.conftest import turnout
from tests.lab.conftest import Lab
from tests.support.processes import refused_port

pytestmark = pytest.mark.lab


def pointed_at(lab: Lab, tmp_path: Path, port: int) -> str:
    """The lab kubeconfig with its server moved to `port`."""
    config = yaml.safe_load(Path(lab.kubeconfig).read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = f"https://127.0.0.1:{port}"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def start_up(lab: Lab) -> float:
    """Seconds this machine takes, right now, to start the CLI and exit: the part of a
    command's time that is not the request's. Measured in the same test, so a loaded machine
    raises the bound instead of failing it."""
    return turnout(lab, "--version").seconds


SLACK = 3.0
"""Seconds for what `--version` does not import (the Kubernetes client path) on a busy machine;
far below the 30 s default timeout or one more retry round that the bound is there to catch."""


def test_black_holed_endpoint_is_unavailable_within_the_timeout(lab: Lab, tmp_path: Path,
                                                                black_hole: int) -> None:
    config = pointed_at(lab, tmp_path, black_hole)
    run = turnout(lab, "--request-timeout", "1.5", "-A", "status", kubeconfig=config)
    assert run.code == 8, run.err
    assert "did not answer within 1.5s" in run.err
    assert run.seconds < 1.5 + start_up(lab) + SLACK


def test_refused_connection_is_unavailable(lab: Lab, tmp_path: Path) -> None:
    port = refused_port()
    run = turnout(lab, "--request-timeout", "1", "status", kubeconfig=pointed_at(lab, tmp_path,
                                                                                   port))
    assert run.code == 8 and "unreachable" in run.err
    assert run.seconds < 1 + start_up(lab) + SLACK


def test_writes_to_a_black_hole_are_unavailable_too(lab: Lab, tmp_path: Path,
                                                    black_hole: int) -> None:
    config = pointed_at(lab, tmp_path, black_hole)
    run = turnout(lab, "--request-timeout", "1", "-n", "shop", "weight", "checkout", "10",
                  "--yes", kubeconfig=config)
    assert run.code == 8, run.err
