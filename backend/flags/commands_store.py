"""`turnout flags accept-empty`: the operator's confirmed "this store is meant to be empty"."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.commands import by_whom, store_for


async def cmd_accept_empty(args: argparse.Namespace, ctx: Any) -> int:
    """Allow writes again on a reset (or new) store without restoring it; audited."""
    async with store_for(args, ctx) as store:
        accept = getattr(store, "accept_empty", None)
        if accept is None:
            raise InvalidInput(f"{store.url} is never reset: nothing to accept")
        ctx.confirm(f"accept {store.url} as it is, so flags lost in its reset stay lost")
        accepted = await accept(by=by_whom(), reason=args.reason)
    err = getattr(ctx, "err", sys.stderr)
    err.write(f"{store.url}: accepted as it is; writes allowed\n" if accepted
              else f"{store.url} was not reset: nothing changed\n")
    return 0
