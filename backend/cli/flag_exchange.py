"""`turnout flags explain | eval | export | import`: evaluation and flagd exchange."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from turnout.backend.cli.context import CliContext
from turnout.backend.cli.flag_commands import write
from turnout.backend.cli.output import write_data
from turnout.backend.errors import InvalidInput, NotFound
from turnout.backend.flags.bucketing import RULES, bucket_by_rule
from turnout.backend.flags.codec import load_json, to_builtins
from turnout.backend.flags.evaluate import Evaluation, Evaluator
from turnout.backend.flags.flagd_export import export_flagd
from turnout.backend.flags.flagd_import import import_flagd, read_document
from turnout.backend.flags.model import Flag


def _context(args: argparse.Namespace) -> dict[str, Any]:
    context: dict[str, Any] = {"targetingKey": args.user}
    for pair in args.attr:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"--attr {pair!r}: expected NAME=VALUE")
        context[name] = value
    return context


async def cmd_explain(args: argparse.Namespace, ctx: CliContext) -> int:
    """Why this user gets this variant: reason, bucket and the bucketing rule."""
    async with ctx.session() as service:
        console = service.flag_console()
        flagset = await console.store.snapshot()
    if args.key not in flagset.flags:
        raise NotFound(f"flag {args.key!r} not found in {console.url}")
    flag = flagset.flags[args.key]
    result = Evaluator(flagset).evaluate(args.key, _context(args))
    view = _explain_view(flag, result, bucket_by_rule(flag.bucketing, flag.key, args.user))
    if ctx.output in ("json", "yaml"):
        write_data(view, ctx.output, ctx.out)
    else:
        ctx.out.writelines(f"{k:<9} {v}\n" for k, v in view.items() if v is not None)
    return 0


def _explain_view(flag: Flag, result: Evaluation, bucket: int) -> dict[str, Any]:
    ranges, start = [], 0
    for variant, weight in flag.ranges or flag.rollout.items():
        ranges.append(f"{variant} {start}-{start + weight - 1}" if weight else f"{variant} none")
        start += weight
    return {
        "flag": f"{flag.key} (version {flag.version}, {'on' if flag.on else 'OFF'})",
        "variant": result.variant,
        "value": json.dumps(result.value),
        "reason": str(result.reason),
        "bucket": bucket,
        "split": ", ".join(ranges) or None,
        "rule": f"{flag.bucketing} ({RULES[flag.bucketing]})",
        "error": result.error or None,
    }


async def cmd_eval(args: argparse.Namespace, ctx: CliContext) -> int:
    """Batch evaluation: JSON lines of contexts in, one JSON line per context and flag out."""
    async with ctx.session() as service:
        evaluator = Evaluator(await service.flag_console().store.snapshot())
    for number, line in enumerate(_lines(args, ctx), 1):
        if not line.strip():
            continue
        context = load_json(line, f"context line {number}")
        for result in _evaluate(evaluator, context, args.keys):
            row = {"targetingKey": context.get("targetingKey"), **to_builtins(result)}
            ctx.out.write(json.dumps(row) + "\n")
    return 0


def _lines(args: argparse.Namespace, ctx: CliContext) -> Iterator[str]:
    if args.context_file:
        with Path(args.context_file).open() as handle:
            yield from handle
    else:
        yield from ctx.stdin


def _evaluate(evaluator: Evaluator, context: Any, keys: list[str]) -> list[Evaluation]:
    if not isinstance(context, dict):
        raise InvalidInput("each context line must be a JSON object")
    if not keys:
        return evaluator.evaluate_all(context)
    return [evaluator.evaluate(k, context) for k in keys]


async def cmd_export(args: argparse.Namespace, ctx: CliContext) -> int:
    """flagd flag-definition JSON on stdout."""
    async with ctx.session() as service:
        doc = export_flagd(await service.flag_console().store.snapshot())
    ctx.out.write(json.dumps(doc, indent=2) + "\n")
    return 0


async def cmd_import(args: argparse.Namespace, ctx: CliContext) -> int:
    """Load a flagd flag-definition JSON file (or `-` for stdin) into the store."""
    if args.file == "-" and not ctx.opt("yes") and not ctx.opt("dry_run"):
        raise InvalidInput("importing from stdin needs --yes (stdin cannot also answer)")
    flagset = import_flagd(read_document(args.file, ctx.stdin))
    return await write(args, ctx, lambda s: s.flag_console().plan_import(flagset))
