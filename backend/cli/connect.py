"""The CLI's side of the assembly: its options, as `backend/assembly.py` reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnout.backend.assembly import Options, build_service, kubeconfig_paths

if TYPE_CHECKING:
    from turnout.backend.cli.context import CliContext
    from turnout.backend.service import ReleaseService

__all__ = ["connect", "kubeconfig_paths", "options"]


def options(ctx: CliContext) -> Options:
    """The session options the command line gave (global flags before or after the command)."""
    timeout = ctx.opt("request_timeout")
    return Options(demo=bool(ctx.opt("demo")), seed=int(ctx.opt("seed", 7)),
                   context=ctx.opt("context"), kubeconfig=ctx.opt("kubeconfig"),
                   namespace=ctx.namespace, read_only=bool(ctx.opt("read_only")),
                   request_timeout=None if timeout is None else float(timeout),
                   flags_url=ctx.opt("flags_url"), flag_commands=bool(ctx.opt("flag_command")),
                   keep_demo=True, guard_interval=ctx.opt("guard_interval"))


def connect(ctx: CliContext) -> ReleaseService:
    """The service for this invocation, scoped to `-n` when given."""
    return build_service(ctx.config, options(ctx))
