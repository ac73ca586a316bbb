"""The real OpenFeature Node clients: installed from tests/node/package-lock.json (`npm ci`).

`make test` runs `npm ci` here when Node is present; a targeted pytest run does it
on first use. Without Node these tests skip, and fail under TURNOUT_REQUIRE_LAB=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lab import conftest as lab_conftest
from tests.lab.conftest import Lab

lab = lab_conftest.lab

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
FLAGD_CORE = NODE_MODULES / "@openfeature" / "flagd-core"
# The preload that sets the flagd provider's file poll (deploy/flags.yaml loads it in the app).
FILE_POLL = HERE.parents[1] / "deploy" / "flagd-file-poll.cjs"


def _missing(reason: str) -> None:
    if os.environ.get("TURNOUT_REQUIRE_LAB") == "1":
        pytest.fail(f"Node clients required (TURNOUT_REQUIRE_LAB=1) but unavailable: {reason}", pytrace=False)
    pytest.skip(f"Node clients unavailable: {reason}")


@dataclass(frozen=True)
class NodeClients:
    """Node and the installed client packages."""

    node: str
    folder: Path

    def run(self, script: str, *args: str, stdin: str = "", timeout: float = 300) -> str:
        done = subprocess.run([self.node, script, *args], input=stdin, capture_output=True, text=True,
                              cwd=self.folder, timeout=timeout)
        assert done.returncode == 0, f"node {script} failed: {done.stderr[-2000:]}"
        return done.stdout

    def start(self, script: str, *args: str, node_options: tuple[str, ...] = (),
              env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen([self.node, *node_options, script, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.folder,
                                env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def node_clients() -> NodeClients:
    """Node with tests/node's locked packages installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("node/npm not installed (apt-get install nodejs npm)")
    assert node is not None and npm is not None
    if not (NODE_MODULES / ".package-lock.json").exists():
        cache = Path.home() / ".cache" / "turnout-npm"
        argv = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--cache", str(cache)]
        done = subprocess.run(argv, cwd=HERE, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            _missing(f"npm ci failed: {done.stderr.strip().splitlines()[-1:]}")
    return NodeClients(node, HERE)


def installed_flagd_rule() -> tuple[str, str]:
    """(version, rule) of the installed Node flagd-core, read from its source.

    `concat`: it hashes the string `${flagKey}${targetingKey}` with imurmurhash;
    `cbor`: it encodes [flagKey, targetingKey] as CBOR first (flagd fractional v3).
    """
    version = json.loads((FLAGD_CORE / "package.json").read_text())["version"]
    source = (FLAGD_CORE / "index.cjs.js").read_text()
    concat = re.search(r"bucketBy = `\$\{flagdProperties\[flagKeyPropertyKey\]\}\$\{targetingKey\}`", source)
    if concat and "imurmurhash" in source:
        return version, "concat"
    if "cbor" in source.lower():
        return version, "cbor"
    raise AssertionError(f"@openfeature/flagd-core {version}: bucketing rule not recognised in its source")


@pytest.fixture
def store_url(lab: Lab) -> Iterator[str]:
    """The lab's Redis under a key prefix of this test's own, removed afterwards."""
    import redis

    prefix = f"turnout:node-{uuid.uuid4().hex[:10]}"
    yield f"{lab.env['redis_url']}?prefix={prefix}"
    conn = redis.Redis.from_url(lab.env["redis_url"])
    try:
        keys = list(conn.scan_iter(match=f"{prefix}:*"))
        if keys:
            conn.delete(*keys)
    finally:
        conn.close()
