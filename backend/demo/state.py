"""The demo kept between invocations, so `turnout --demo weight search 50 --yes` and a later
`turnout --demo status search` see one demo: its world, its release flows and history, and
its flags (`turnout demo --reset` forgets them all)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

from turnout.backend.demo.world import DemoWorld, SimApp
from turnout.backend.flags.local import Document

Documents = dict[tuple[str, str], tuple[int, bytes]]
"""The demo cluster's named documents: (namespace, name) -> (revision, bytes)."""


class _Saved(msgspec.Struct, frozen=True):
    """The demo as kept: MessagePack, because a color without traffic has NaN error rates."""

    seed: int
    now: float
    pod_serial: int
    rng: tuple[Any, ...]
    apps: list[SimApp]
    documents: list[tuple[str, str, int, bytes]] = msgspec.field(default_factory=list)
    flags: Document | None = None


class Kept(msgspec.Struct, frozen=True):
    """One demo as an earlier run left it."""

    world: DemoWorld
    documents: Documents
    """Release flows and history, as the demo cluster holds them."""
    flags: Document | None
    """The flags, segments and their history; None: the seeded flags."""


def state_file() -> Path:
    """Where the demo is kept: `$TURNOUT_STATE_DIR/demo-world.msgpack`, else the XDG state
    directory."""
    root = os.environ.get("TURNOUT_STATE_DIR") or platformdirs.user_state_dir("turnout")
    return Path(root) / "demo-world.msgpack"


def save(path: Path, seed: int, world: DemoWorld, documents: Documents, flags: Document) -> None:
    """Write the demo (atomically: a reader never sees half a file)."""
    saved = _Saved(seed=seed, now=world.now, pod_serial=world.pod_serial, rng=world.rng.getstate(),
                   apps=list(world.apps.values()),
                   documents=[(ns, name, rev, data) for (ns, name), (rev, data) in documents.items()],
                   flags=flags)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(msgspec.msgpack.encode(saved))
    partial.replace(path)


def load(seed: int, path: Path) -> Kept | None:
    """The kept demo of this seed; None when there is none, it is of another seed, or it
    cannot be read (then the demo starts from its seed again)."""
    try:
        saved = msgspec.msgpack.decode(path.read_bytes(), type=_Saved)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if saved.seed != seed:
        return None
    world = DemoWorld.__new__(DemoWorld)
    world.restore(saved.now, saved.pod_serial, saved.rng, saved.apps)
    documents = {(ns, name): (rev, data) for ns, name, rev, data in saved.documents}
    return Kept(world=world, documents=documents, flags=saved.flags)


def reset(path: Path) -> bool:
    """Forget the kept demo; whether there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
