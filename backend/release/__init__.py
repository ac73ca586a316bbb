"""The release flow: deploy into the idle color, verify, shift traffic, monitor, scale down.

`DeployConsole` is what front ends call (deploy, resume, abort, promote,
history); `dora` turns the recorded history into delivery figures. The flow
is journaled in the cluster after every stage (README: "Deploying a release").
"""

from __future__ import annotations

from turnout.backend.release.deploy_console import DeployConsole, version_of
from turnout.backend.release.dora import Dora, Figure, dora
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
    "dora",
    "flow_view",
    "format_duration",
    "parse_duration",
    "plan_stages",
    "release_line",
    "release_view",
    "version_of",
]
