"""`lock`, `unlock`, `resume` command bodies (backend/cli/kube_cmd.py) against the lab."""

from __future__ import annotations

import argparse
import io

import pytest

from tests.kube.conftest import seed_app
from tests.lab.conftest import Lab
from turnout.backend.cli import kube_cmd
from turnout.backend.cli.context import CliContext
from turnout.backend.config import Config
from turnout.backend.errors import ReadOnly
from turnout.backend.kube.lock import me

pytestmark = pytest.mark.lab


def context(lab: Lab, ns: str, **options: object) -> CliContext:
    args = argparse.Namespace(kubeconfig=lab.kubeconfig, namespace=ns, yes=True, force=False,
                              back=False, app="shop", **options)
    return CliContext(args=args, config=Config(), out=io.StringIO(), err=io.StringIO(),
                      stdin=io.StringIO())


def parsed(ctx: CliContext) -> str:
    assert isinstance(ctx.out, io.StringIO)
    return ctx.out.getvalue()


async def test_lock_unlock_and_resume_with_nothing_to_do(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "none")
    ctx = context(lab, lab_namespace)
    assert await kube_cmd.lock(ctx.args, ctx) == 0
    assert parsed(ctx) == "locked shop\n"
    ctx = context(lab, lab_namespace)
    assert await kube_cmd.unlock(ctx.args, ctx) == 0
    assert parsed(ctx) == f"unlocked shop (was {me()})\n"
    ctx = context(lab, lab_namespace)
    assert await kube_cmd.resume(ctx.args, ctx) == 0
    assert "nothing to do" in parsed(ctx)


async def test_lock_is_refused_in_read_only_mode(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "none")
    ctx = context(lab, lab_namespace, read_only=True)
    with pytest.raises(ReadOnly):
        await kube_cmd.lock(ctx.args, ctx)

