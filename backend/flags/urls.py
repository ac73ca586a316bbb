"""Choose a flag store by URL.

- `redis://[:password@]host:port/db[?prefix=turnout:flags]`, `rediss://` for TLS
- `file:///path/flags.json` or `.yaml` — the embedded default
- `launchdarkly://PROJECT/ENVIRONMENT` — token from `LD_API_KEY`, API base from
  `LD_BASE_URL` (default https://app.launchdarkly.com)
- `memory://` — this process only (the demo)

Precedence: `--flags-url`, then `TURNOUT_FLAGS_URL`, then `flags_url` in the
config file, then `flags.json` in Turnout's state directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import platformdirs

from turnout.backend.errors import ConfigError
from turnout.backend.flags.store import FlagStore
from turnout.backend.gate import WriteGate

SCHEMES = ("redis", "rediss", "file", "launchdarkly", "memory")


def default_url() -> str:
    """`flags.json` in `$TURNOUT_STATE_DIR` or the XDG state directory."""
    root = os.environ.get("TURNOUT_STATE_DIR") or platformdirs.user_state_dir("turnout")
    return (Path(root) / "flags.json").as_uri()


def resolve_url(explicit: str | None, configured: str | None) -> str:
    """The store URL by precedence (the config loader already applied the env)."""
    return explicit or os.environ.get("TURNOUT_FLAGS_URL") or configured or default_url()


def open_store(url: str, gate: WriteGate, *, timeout: float = 2.0) -> FlagStore:
    """The store `url` names; `ConfigError` for an unknown or malformed URL."""
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss"):
        from turnout.backend.flags.redis_store import RedisStore

        return RedisStore(url, gate, timeout=timeout)
    if parts.scheme == "file":
        from turnout.backend.flags.local import FileStore

        if not parts.path:
            raise ConfigError(f"flag store URL {url!r}: file:// needs an absolute path")
        return FileStore(Path(unquote(parts.path)), gate)
    if parts.scheme == "memory":
        from turnout.backend.flags.local import MemoryStore

        return MemoryStore(gate)
    if parts.scheme == "launchdarkly":
        return _launchdarkly(parts.netloc, parts.path.strip("/"), gate, timeout)
    raise ConfigError(
        f"flag store URL {url.split('@')[-1]!r}: unknown scheme; use one of "
        + ", ".join(f"{s}://" for s in SCHEMES)
    )


def _launchdarkly(project: str, environment: str, gate: WriteGate, timeout: float) -> FlagStore:
    from turnout.backend.flags.launchdarkly import LaunchDarklyStore

    if not project or not environment or "/" in environment:
        raise ConfigError("launchdarkly URL must be launchdarkly://PROJECT/ENVIRONMENT")
    token = os.environ.get("LD_API_KEY", "")
    if not token:
        raise ConfigError("LD_API_KEY is not set (a LaunchDarkly API access token)")
    base = os.environ.get("LD_BASE_URL", "https://app.launchdarkly.com")
    return LaunchDarklyStore(project, environment, token, gate, base_url=base, timeout=timeout)
