"""The CLI's side of the assembly: its options, as `backend/assembly.py` reads them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from turnout.backend.assembly import Options, build_contexts, build_service, kubeconfig_paths
from turnout.backend.errors import InvalidInput

if TYPE_CHECKING:
    from turnout.backend.cli.context import CliContext
    from turnout.backend.contexts import Contexts
    from turnout.backend.service import ReleaseService

__all__ = ["connect", "contexts", "kubeconfig_paths", "options"]


def options(ctx: CliContext, *, several: bool = False) -> Options:
    """The session options the command line gave (global flags before or after the command);
    one context unless `several` (the views that read several side by side)."""
    timeout = ctx.opt("request_timeout")
    return Options(demo=bool(ctx.opt("demo")), seed=int(ctx.opt("seed", 7)),
                   context=None if several else ctx.one_context(),
                   kubeconfig=ctx.opt("kubeconfig"),
                   namespace=ctx.namespace, read_only=bool(ctx.opt("read_only")),
                   request_timeout=None if timeout is None else float(timeout),
                   flags_url=ctx.opt("flags_url"), flag_commands=bool(ctx.opt("flag_command")),
                   keep_demo=True, guard_interval=ctx.opt("guard_interval"))


def connect(ctx: CliContext) -> ReleaseService:
    """The service for this invocation, scoped to `-n` when given."""
    return build_service(ctx.config, options(ctx))


def contexts(ctx: CliContext, names: Sequence[str] | None = None) -> Contexts:
    """A service per context the command line names (--context A,B or --all-contexts), or
    per context of `names` (a command's own, such as failover's two)."""
    if ctx.opt("demo"):
        raise InvalidInput("the demo is one context: --context A,B and --all-contexts read "
                           "kube contexts")
    if names is not None:
        return build_contexts(ctx.config, options(ctx, several=True), names)
    return build_contexts(ctx.config, options(ctx, several=True), ctx.contexts,
                          every=bool(ctx.opt("all_contexts")))
