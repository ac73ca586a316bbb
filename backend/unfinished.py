"""One rule for unfinished operations: while an app has one, traffic verbs refuse.

An operation interrupted between its writes (journaled) leaves the routing objects half
way. A verb that planned from that state would silently finish or undo someone else's
change, so every traffic verb refuses and names the two ways out: `resume` (finish it)
and `resume --back` (undo it). `rollback` is the one verb that is itself a way out: it
undoes the operation first.
"""

from __future__ import annotations

from turnout.backend.errors import Conflict
from turnout.backend.models import App


def refuse_unfinished(app: App, what: str) -> None:
    """`Conflict` when `app` has an unfinished operation; `what` is the verb's phrase."""
    op = app.operation
    if op is None:
        return
    raise Conflict(f"cannot {what} {app.namespace}/{app.name}: operation {op.id} ({op.kind}, "
                   f"step {op.step}/{len(op.steps)}, by {op.by}) is unfinished. Finish it with "
                   f"`turnout -n {app.namespace} resume {app.name}` or undo it with "
                   f"`turnout -n {app.namespace} resume {app.name} --back`")
