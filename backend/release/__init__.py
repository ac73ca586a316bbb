"""The release flow: deploy into the idle color, verify, shift traffic, monitor, scale down.

`DeployConsole` is what front ends call (deploy, resume, abort, promote,
history); `dora.dora` turns the recorded history into delivery figures. The flow
is journaled in the cluster after every stage (README: "Deploying a release"). The names
below are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnout.backend.lazy import exports

if TYPE_CHECKING:
    from turnout.backend.release.deploy_console import DeployConsole, version_of
    from turnout.backend.release.dora import Dora, Figure
    from turnout.backend.release.durations import format_duration, parse_duration
    from turnout.backend.release.flow import Driver, RestoreIncomplete
    from turnout.backend.release.model import (
        EXIT_CODES,
        DeployRequest,
        Flow,
        Outcome,
        Release,
        Stage,
        plan_stages,
    )
    from turnout.backend.release.port import ReleasePort, Rollout
    from turnout.backend.release.views import flow_view, release_line, release_view

__all__ = [
    "EXIT_CODES",
    "DeployConsole",
    "DeployRequest",
    "Dora",
    "Driver",
    "Figure",
    "Flow",
    "Outcome",
    "Release",
    "ReleasePort",
    "RestoreIncomplete",
    "Rollout",
    "Stage",
    "flow_view",
    "format_duration",
    "parse_duration",
    "plan_stages",
    "release_line",
    "release_view",
    "version_of",
]

__getattr__ = exports(__name__, {
    "DeployConsole": "deploy_console",
    "DeployRequest": "model",
    "Dora": "dora",
    "Driver": "flow",
    "EXIT_CODES": "model",
    "Figure": "dora",
    "Flow": "model",
    "Outcome": "model",
    "Release": "model",
    "ReleasePort": "port",
    "RestoreIncomplete": "flow",
    "Rollout": "port",
    "Stage": "model",
    "flow_view": "views",
    "format_duration": "durations",
    "parse_duration": "durations",
    "plan_stages": "model",
    "release_line": "views",
    "release_view": "views",
    "version_of": "deploy_console",
})
