"""The headless front end: `turnout` commands over the same `ReleaseService` as the TUI.

Never imports Textual: opening the TUI goes through the `turnout.frontends`
entry point, so scripts and pipelines pay nothing for it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from turnout.backend import startup
from turnout.backend.cli.context import CliContext
from turnout.backend.cli.parser import build_parser
from turnout.backend.config import load_config
from turnout.backend.errors import TurnoutError
from turnout.backend.sanitize import inert

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (README: "Exit codes")."""
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="turnout: %(levelname)s: %(message)s")
    if not _opens_tui(args):
        startup.resume()  # the TUI resumes the collector once its first frame is drawn
    try:
        ctx = CliContext(args=args, config=load_config())
        if getattr(args, "func", None) is None:
            from turnout.backend.cli.front_ends import open_tui

            return open_tui(ctx, demo=bool(ctx.opt("demo")))
        if getattr(args, "front_end", False):
            front: int = args.func(args, ctx)
            return front
        code: int = asyncio.run(args.func(args, ctx))
        return code
    except TurnoutError as err:
        sys.stderr.write(f"turnout: error: {inert(str(err), single_line=True)}\n")
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _opens_tui(args: argparse.Namespace) -> bool:
    """Whether the parsed command hands over to the TUI: no command at all, or `demo`."""
    if getattr(args, "func", None) is None:
        return True
    return bool(getattr(args, "tui", False)) and not getattr(args, "reset", False)


if __name__ == "__main__":
    sys.exit(main())
