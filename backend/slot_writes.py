"""`SlotWrites`: scale and set-image on one color, as `ReleaseService` runs them.

A scale goes through the bounds of an HPA governing the color (`scaling.py`, asked of an
`Autoscaled` cluster); each write is audited with what was set (`scale-blue`,
`set-image-green`).
"""

from __future__ import annotations

import msgspec

from turnout.backend import verbs
from turnout.backend.audit import Auditor
from turnout.backend.models import App, Color
from turnout.backend.ports import Autoscaled, ClusterPort
from turnout.backend.scaling import ScalePlan, plan
from turnout.backend.verbs import SlotChange


class SlotWrites:
    """The slot verbs of one cluster, audited by the service's `Auditor`."""

    def __init__(self, cluster: ClusterPort, auditor: Auditor) -> None:
        self.cluster = cluster
        self.auditor = auditor

    async def preview(self, app: App, verb: str, color: str, value: int | str) -> SlotChange:
        """What `verb` would change on `color`; under an HPA, the line saying how the scale
        goes through its bounds. Nothing is written."""
        change = verbs.plan_slot(app, verb, color, value)
        if verb != "scale":
            return change
        scaling = await self.scale_plan(app, change.color, int(value))
        # Under an HPA the color ends within its bounds: the confirmation says how.
        return msgspec.structs.replace(change, after=scaling.replicas,
                                       note=scaling.line(self.cluster.context)
                                       if scaling.hpa or scaling.note else "")

    async def scale_plan(self, app: App, color: Color, replicas: int) -> ScalePlan:
        """What scaling `color` to `replicas` will do, an HPA governing it considered."""
        if isinstance(self.cluster, Autoscaled):
            return await self.cluster.scale_plan(app, color, replicas)
        return plan(app.name, app.namespace, color, replicas, app.slot(color).desired)

    async def apply(self, app: App, verb: str, color: str, value: int | str, *,
                    dry_run: bool, reason: str, restore: bool) -> None:
        """Write what `preview` showed, audited; `restore` puts an HPA back to its own bounds."""
        change = verbs.plan_slot(app, verb, color, value)
        after: int | str = change.after
        if verb == "scale":
            slot = (await self.cluster.scale_back(app, change.color, int(value), dry_run=dry_run)
                    if restore and isinstance(self.cluster, Autoscaled) else
                    await self.cluster.scale(app, change.color, int(value), dry_run=dry_run))
            # Under an HPA the color may end elsewhere than asked (its minimum): audit what was set.
            after = after if dry_run else slot.desired
        else:
            await self.cluster.set_image(app, change.color, str(value), dry_run=dry_run)
        await self.auditor.app_write(app, change.action, {change.field: change.before},
                                     {change.field: after}, reason=reason, dry_run=dry_run)
