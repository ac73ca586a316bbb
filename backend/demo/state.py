"""The demo world kept between invocations, so `turnout --demo weight search 50 --yes` and a
later `turnout --demo status search` see one world (`turnout demo --reset` forgets it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

from turnout.backend.demo.world import DemoWorld, SimApp


class _Saved(msgspec.Struct, frozen=True):
    """The world as kept: MessagePack, because a color without traffic has NaN error rates."""

    seed: int
    now: float
    pod_serial: int
    rng: tuple[Any, ...]
    apps: list[SimApp]


def state_file() -> Path:
    """Where the demo world is kept: `$TURNOUT_STATE_DIR/demo-world.msgpack`, else the XDG
    state directory."""
    root = os.environ.get("TURNOUT_STATE_DIR") or platformdirs.user_state_dir("turnout")
    return Path(root) / "demo-world.msgpack"


def save(world: DemoWorld, seed: int, path: Path) -> None:
    """Write `world` (atomically: a reader never sees half a file)."""
    saved = _Saved(seed=seed, now=world.now, pod_serial=world.pod_serial, rng=world.rng.getstate(),
                   apps=list(world.apps.values()))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(msgspec.msgpack.encode(saved))
    partial.replace(path)


def load(seed: int, path: Path) -> DemoWorld | None:
    """The kept world of this seed; None when there is none, it is of another seed, or it
    cannot be read (then the demo starts from its seed again)."""
    try:
        saved = msgspec.msgpack.decode(path.read_bytes(), type=_Saved)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if saved.seed != seed:
        return None
    world = DemoWorld.__new__(DemoWorld)
    world.restore(saved.now, saved.pod_serial, saved.rng, saved.apps)
    return world


def reset(path: Path) -> bool:
    """Forget the kept world; whether there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
