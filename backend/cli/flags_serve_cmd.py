"""`turnout flags serve | sync | bucketing`: flags for applications in any language.

`serve` answers OFREP (OpenFeature Remote Evaluation Protocol) from a live
reader of the store; `sync` keeps in-process flagd providers current, through a
flag-definition file (`file://`) or by serving flagd's gRPC sync stream, which
pushes each change (`grpc://HOST:PORT`); `bucketing` sets which hash rule a flag's split
uses, so Turnout buckets users as the flag's consumers do. Both long-running
commands open the store behind a read-only gate: they cannot write a flag.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, get_args

from turnout.backend.errors import ConfigError, InvalidInput
from turnout.backend.flags.listen import TOKEN_ENV
from turnout.backend.flags.model import Bucketing
from turnout.backend.flags.reader import FlagReader, ReaderState
from turnout.backend.flags.store import FlagStore
from turnout.backend.gate import WriteGate


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `serve`, `sync` and `bucketing` under `turnout flags`."""
    serve = _add(sub, "serve", cmd_serve, "serve OFREP evaluations from the store (long-running)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8016, help="port (0: any free port)")
    serve.add_argument("--token-file", metavar="PATH",
                       help=f"bearer token file (else ${TOKEN_ENV}); required off loopback")
    serve.add_argument("--max-body", type=int, default=64 * 1024, metavar="BYTES")
    serve.add_argument("--rate", type=float, default=1000.0, help="requests/s per client address")
    serve.add_argument("--burst", type=int, default=2000, help="requests a client may send at once")
    sync = _add(sub, "sync", cmd_sync, "keep flagd in-process providers current (long-running)")
    sync.add_argument("--to", required=True, metavar="file:///PATH | grpc://HOST:PORT",
                      help="the flagd JSON file to keep, or the address to serve flagd's gRPC sync on "
                           "(pushes every change; port 0: any free port)")
    sync.add_argument("--once", action="store_true", help="write the file once and exit")
    sync.add_argument("--token-file", metavar="PATH",
                      help=f"grpc://: bearer token file (else ${TOKEN_ENV}); required off loopback")
    rule = _add(sub, "bucketing", cmd_bucketing, "set the hash rule of flags' splits")
    rule.add_argument("rule", choices=get_args(Bucketing),
                      help="cbor: flagd fractional v3 (default); concat: flagKey+targetingKey "
                           "(Node @openfeature/flagd-core <= 4.0.1)")
    rule.add_argument("keys", nargs="*", metavar="KEY", help="flags to change")
    rule.add_argument("--all", action="store_true", help="every flag in the store")
    rule.add_argument("--reason", default="", help="why, for the audit trail")
    rule.add_argument("--dry-run", action="store_true", help="show who would move; write nothing")
    rule.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def _add(sub: argparse._SubParsersAction, name: str, func: Any,  # type: ignore[type-arg]
         help_: str) -> argparse.ArgumentParser:
    cmd: argparse.ArgumentParser = sub.add_parser(name, help=help_, description=help_)
    cmd.add_argument("--flags-url", default=argparse.SUPPRESS, metavar="URL",
                     help="flag store (redis://, rediss://, file://, launchdarkly://, memory://)")
    cmd.set_defaults(func=func, write=name == "bucketing")
    return cmd


def _open(args: argparse.Namespace, ctx: Any, gate: WriteGate) -> FlagStore:
    from turnout.backend.assembly import flag_store
    from turnout.backend.cli.connect import options

    return flag_store(ctx.config, options(ctx), gate)


@contextlib.asynccontextmanager
async def _reader(args: argparse.Namespace, ctx: Any) -> AsyncIterator[FlagReader]:
    """A started reader on a store that refuses every write."""
    store = _open(args, ctx, WriteGate(read_only=True, why="flags serve/sync never write"))
    reader = FlagReader(store)
    try:
        await reader.start()
        yield reader
    finally:
        await reader.close()
        await store.close()


def read_token(args: argparse.Namespace) -> str:
    """The bearer token from --token-file or the environment ('' when neither)."""
    path = getattr(args, "token_file", None)
    if path:
        try:
            token = Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"--token-file {path}: {exc.strerror}") from exc
        if not token:
            raise ConfigError(f"--token-file {path} is empty")
        return token
    return os.environ.get(TOKEN_ENV, "").strip()


async def cmd_serve(args: argparse.Namespace, ctx: Any) -> int:
    """OFREP on --host:--port until interrupted."""
    from turnout.backend.flags.ofrep_server import ServeOptions, serve

    options = ServeOptions(host=args.host, port=args.port, token=read_token(args),
                           max_body=args.max_body, rate=args.rate, burst=args.burst)
    options.check()
    async with _reader(args, ctx) as reader:
        def ready(url: str) -> None:
            ctx.out.write(f"{url}\n")
            ctx.out.flush()
            err = getattr(ctx, "err", sys.stderr)
            err.write(f"turnout: serving OFREP at {url} from {reader.store.url} ({reader.state})\n")
            err.flush()

        await _until_signalled(serve(reader, options, ready))
    return 0


async def cmd_sync(args: argparse.Namespace, ctx: Any) -> int:
    """Keep --to current until interrupted (or once)."""
    from turnout.backend.flags.sync import FlagdFileSync, grpc_address, target_path

    if args.to.startswith("grpc://"):
        host, port = grpc_address(args.to)
        return await _sync_grpc(args, ctx, host, port)
    path = target_path(args.to)
    if not path.parent.is_dir():
        raise ConfigError(f"--to {args.to}: folder {path.parent} does not exist")
    async with _reader(args, ctx) as reader:
        sync = FlagdFileSync(reader, path)
        if args.once:
            if reader.state != ReaderState.READY:
                raise ConfigError(f"flag store {reader.store.url}: {reader.message}")
            sync.write_now()
            return 0
        await _until_signalled(sync.run())
    return 0


async def _sync_grpc(args: argparse.Namespace, ctx: Any, host: str, port: int) -> int:
    """flagd's gRPC sync service on host:port until interrupted."""
    from turnout.backend.flags.sync_grpc import FlagdSyncService, GrpcSyncOptions

    if args.once:
        raise InvalidInput("--once writes a file; a grpc:// target serves until stopped")
    options = GrpcSyncOptions(host=host, port=port, token=read_token(args))
    options.check()
    async with _reader(args, ctx) as reader:
        service = FlagdSyncService(reader, options)

        def ready(url: str) -> None:
            ctx.out.write(f"{url}\n")
            ctx.out.flush()
            err = getattr(ctx, "err", sys.stderr)
            err.write(f"turnout: serving flagd sync at {url} from {reader.store.url} ({reader.state})\n")
            err.flush()

        await _until_signalled(service.run(ready))
    return 0


async def cmd_bucketing(args: argparse.Namespace, ctx: Any) -> int:
    """Set the rule on each named flag (compare-and-set on the version read): the share of
    users who would move is shown and confirmed first (`--yes` in a script), the write made
    on the session's store (the current context's read-only settings) under the operator."""
    if bool(args.keys) == bool(args.all):
        raise InvalidInput("give flag KEYs or --all")
    keys = None if args.all else args.keys
    async with ctx.session() as service:
        moves = await service.plan_bucketing(args.rule, keys)
        ctx.confirm(f"set the bucketing rule of {'every flag' if keys is None else ', '.join(keys)} "
                    f"to {args.rule} in {service.flag_console().url}", [m.describe() for m in moves])
        if not args.dry_run:
            moves = await service.write_bucketing(args.rule, keys, reason=args.reason)
    for move in moves:
        ctx.out.write(f"{move.describe()}{' (dry run)' if args.dry_run else ''}\n")
    return 0


async def _until_signalled(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until SIGTERM or SIGINT, then let it clean up (a pod stopping is not an error)."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
