"""The charts under deploy/charts, the helm binary (make tools) and the value sets the
tests render: every router, TLS on and off, HPA on and off."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.ops.tools import tool

REPO = Path(__file__).resolve().parents[2]
APP_CHART = REPO / "deploy" / "charts" / "turnout-app"
TURNOUT_CHART = REPO / "deploy" / "charts" / "turnout"
TOOLS_BIN = Path(os.environ.get("TURNOUT_TOOLS_BIN", Path.home() / ".cache" / "turnout-tools" / "bin"))


def _colors(name: str) -> dict[str, Any]:
    return {"blue": {"image": f"registry.local/{name}:1.4.2", "version": "1.4.2"},
            "green": {"image": f"registry.local/{name}:1.5.0", "version": "1.5.0"}}


def value_set(router: str, tls: bool, hpa: bool, name: str = "shop") -> dict[str, Any]:
    """Values of one chart variant; a gateway app brings its own Gateway."""
    return {"name": name, "colors": _colors(name), "router": router,
            "canary": {"plan": "10,50,100", "weight": 10 if router != "none" else 0},
            "host": f"{name}.example.com", "imagePullSecrets": ["registry-creds"],
            "envFromSecrets": [f"{name}-env"],
            "ingress": {"tls": {"enabled": tls, "clusterIssuer": "letsencrypt"}},
            "gateway": {"name": "edge", "create": True, "className": "lab"},
            "autoscaling": {"enabled": hpa}}


VALUE_SETS = {
    "nginx-tls-hpa": value_set("nginx", tls=True, hpa=True),
    "nginx-plain": value_set("nginx", tls=False, hpa=False),
    "gateway-tls-hpa": value_set("gateway", tls=True, hpa=True),
    "gateway-plain": value_set("gateway", tls=False, hpa=False),
    "none-tls-hpa": value_set("none", tls=True, hpa=True),
    "none-plain": value_set("none", tls=False, hpa=False),
}


def helm() -> str:
    """The helm binary `make tools` builds; skips (fails under TURNOUT_REQUIRE_LAB=1) without."""
    return tool("helm", TOOLS_BIN / "helm")


def run_helm(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run helm with its cache and config under ``home`` (never the user's)."""
    env = {**os.environ, **{f"HELM_{k}_HOME": str(home / k.lower())
                            for k in ("CACHE", "CONFIG", "DATA")}}
    done = subprocess.run([helm(), *args], capture_output=True, text=True, timeout=120, env=env)
    if check:
        assert done.returncode == 0, done.stderr or done.stdout
    return done


def values_file(values: dict[str, Any], folder: Path) -> Path:
    """The values as a file (JSON is YAML)."""
    path = folder / f"values-{abs(hash(json.dumps(values, sort_keys=True)))}.json"
    path.write_text(json.dumps(values))
    return path


def render(values: dict[str, Any], folder: Path, chart: Path = APP_CHART,
           namespace: str = "shop", release: str = "shop") -> list[dict[str, Any]]:
    """`helm template` of the chart: the objects it renders."""
    out = run_helm("template", release, str(chart), "--namespace", namespace,
                   "--values", str(values_file(values, folder)), home=folder).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """The rendered objects of one kind, by name."""
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}
