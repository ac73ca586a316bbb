"""`Coordination`: the release lock and the journal of multi-object changes, as
`ReleaseService` runs them; only a cluster that keeps them (`Coordinated`) can."""

from __future__ import annotations

from turnout.backend.audit import Auditor
from turnout.backend.errors import InvalidInput
from turnout.backend.models import Traffic
from turnout.backend.ports import ClusterPort, Coordinated


class Coordination:
    """Lock, unlock (audited) and resume on one cluster."""

    def __init__(self, cluster: ClusterPort, auditor: Auditor) -> None:
        self.cluster = cluster
        self.auditor = auditor

    def coordinated(self, what: str) -> Coordinated:
        """The cluster as one that keeps locks and journals; `InvalidInput` naming `what`
        needs one."""
        if not isinstance(self.cluster, Coordinated):
            raise InvalidInput(f"{what} needs a Kubernetes cluster (context "
                               f"{self.cluster.context} has none)")
        return self.cluster

    async def lock(self, name: str, namespace: str | None, *, force: bool, reason: str) -> str:
        """Take or renew the app's release lock, audited; the holder it was taken from."""
        cluster = self.coordinated("the release lock")
        app = await self.cluster.get_app(name, namespace)
        previous = await cluster.lock(name, app.namespace, force=force)
        held = (await self.cluster.get_app(name, app.namespace)).lock_holder
        await self.auditor.app_write(app, "lock", {"holder": previous or app.lock_holder},
                                     {"holder": held}, reason=reason, dry_run=False)
        return previous

    async def unlock(self, name: str, namespace: str | None, *, force: bool, reason: str) -> str:
        """Release the app's lock, audited; who held it."""
        cluster = self.coordinated("the release lock")
        app = await self.cluster.get_app(name, namespace)
        held = await cluster.unlock(name, app.namespace, force=force)
        if held:
            await self.auditor.app_write(app, "unlock", {"holder": held}, {"holder": ""},
                                         reason=reason, dry_run=False)
        return held

    async def resume(self, name: str, namespace: str | None, *, back: bool,
                     what: str = "resume") -> Traffic | None:
        """Converge (or with `back` undo) the app's journaled operation; None when none."""
        return await self.coordinated(what).resume(name, namespace, back=back)
