"""`rollback --to VERSION` for a version no color runs now: its image, taken from the app's
release history, goes into the idle color through the deploy flow (readiness, health, smoke,
the guard's triggers), so a rollback to an old release is checked like any deploy.

A version a color still runs keeps the fast path (a traffic switch, `ReleaseService.rollback`).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from turnout.backend import plans
from turnout.backend.errors import NotFound
from turnout.backend.models import ActionResult, App
from turnout.backend.release.deploy_console import DeployConsole
from turnout.backend.release.model import EXIT_CODES, DeployRequest, Flow, Release, Steered
from turnout.backend.release.views import release_line


def running(app: App, version: str) -> bool:
    """Whether a color of the app runs `version` now (the fast path applies)."""
    return any(slot.version == version for slot in (app.blue, app.green) if slot.image)


def known_versions(app: App, releases: Sequence[Release]) -> dict[str, str]:
    """Every version the app is known to have run, newest first, with its image: the colors'
    versions now, then each recorded release's version and the one it replaced. A version
    recorded several times keeps the image of its newest promoted record."""
    images: dict[str, str] = {}
    settled: set[str] = set()
    """Versions whose image is final: running now, or from a promoted record."""
    for slot in (app.slot(app.traffic.live), app.slot(app.traffic.canary)):
        if slot.version and slot.image and slot.version not in settled:
            images[slot.version] = slot.image
            settled.add(slot.version)
    for release in reversed(releases):
        pairs = ((release.version, release.image, release.outcome == "promoted"),
                 (release.previous_version, release.previous_image, True))
        for version, image, good in pairs:
            if not version or not image or version in settled:
                continue
            if good or version not in images:
                images[version] = image
            if good:
                settled.add(version)
    return images


def image_of(app: App, releases: Sequence[Release], version: str) -> str:
    """The image of `version` from the history; `NotFound` listing the known versions."""
    images = known_versions(app, releases)
    if version not in images:
        known = ", ".join(images) or "none recorded"
        raise NotFound(f"{app.name} has no version {version!r} in its release history "
                       f"(known versions, newest first: {known})")
    return images[version]


def request_for(app: App, image: str, version: str,
                template: DeployRequest | None) -> DeployRequest:
    """The deploy that brings `image` back: the operator's flow options (strategy, steps,
    windows) or the deploy defaults, always this app, this image and a reason saying why."""
    base = template or DeployRequest(app=app.name, image=image)
    return msgspec.structs.replace(base, app=app.name, namespace=app.namespace, image=image,
                                   reason=base.reason or f"rollback to {version}")


async def redeploy_request(console: DeployConsole, app: App, version: str,
                           template: DeployRequest | None = None) -> DeployRequest | None:
    """The deploy a rollback to `version` needs: None when a color runs it (the fast path,
    a traffic switch); else its image from the release history, with `template`'s flow
    options. `NotFound`, listing the known versions, for a version never recorded."""
    if running(app, version):
        return None
    releases = await console.history(app.namespace, app.name)
    return request_for(app, image_of(app, releases, version), version, template)


async def versions(console: DeployConsole, app: App) -> tuple[str, ...]:
    """The versions `rollback --to` accepts for the app, newest first: the colors' own, then
    the release history's (what the rollback dialog offers)."""
    return tuple(known_versions(app, await console.history(app.namespace, app.name)))


async def preview(console: DeployConsole, app: App, request: DeployRequest) -> ActionResult:
    """The rollback's preview as a traffic verb's: the live color the deploy ends on, and the
    deploy as the line to confirm; nothing is written."""
    flow = await console.plan(request)
    return ActionResult(action="rollback", app=app.name, namespace=app.namespace,
                        before=app.traffic, after=plans.switched(app.traffic, flow.new),
                        dry_run=True, message=confirmation(flow))


def confirmation(flow: Flow) -> str:
    """The line an operator confirms for a rollback that redeploys an old version."""
    return (f"roll back {flow.app} to {flow.version}: deploy {flow.image} into {flow.new} "
            f"({flow.old} {flow.old_version} -> {flow.new} {flow.version}, {flow.strategy}, "
            "with the deploy's checks)")


async def redeploy(console: DeployConsole, request: DeployRequest, *,
                   dry_run: bool = False) -> Steered:
    """Run the deploy flow for the rollback (or, dry, only plan it); its outcome and exit code
    are the deploy's."""
    if dry_run:
        flow = await console.plan(request)
        return Steered(verb="rollback", app=flow.app, namespace=flow.namespace, flow=flow,
                       dry_run=True, message=f"would {confirmation(flow)} (dry run: nothing written)")
    flow = await console.plan(request)
    release = await console.deploy(request)
    return Steered(verb="rollback", app=release.app, namespace=release.namespace, flow=flow,
                   release=release, message=release_line(release),
                   exit_code=EXIT_CODES[release.outcome])
