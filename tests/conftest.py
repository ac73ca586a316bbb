"""Shared fixtures: an isolated state/config directory for every test, and a black hole."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.processes import Processes

# Property tests check what is generated, not how fast: on a two-core machine that also runs
# the lab, generation and examples can be slow without anything being wrong.
settings.register_profile("turnout", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("turnout")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Audit logs and config go to a temporary folder, never the developer's."""
    monkeypatch.setenv("TURNOUT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TURNOUT_CONFIG", str(tmp_path / "config.yaml"))
    for var in ("TURNOUT_READ_ONLY", "KUBECONFIG", "TURNOUT_THEME", "TURNOUT_FLAGS_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Processes a test starts (servers, `turnout` commands), stopped when it ends."""
    started = Processes()
    yield started
    started.stop_all()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that uses the lab carries the ``lab`` mark, however it reaches the fixture,
    so ``make test`` can run the lab-free tests in parallel and the lab tests in one process
    (they share the lab's demo services and their injected faults)."""
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.lab)


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A local TCP port that accepts connections and never answers: the kernel completes the
    handshake on the listening socket and nobody ever reads or writes. What a hung server or a
    firewall that drops replies looks like to a client: only its own timeout ends the wait."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]
