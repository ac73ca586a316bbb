"""`turnout flags ...` end to end over a file store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from turnout.backend.cli import main
from turnout.backend.errors import InvalidInput, NotFound, ReadOnly


@pytest.fixture
def flags_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = (tmp_path / "flags.json").as_uri()
    monkeypatch.setenv("TURNOUT_FLAGS_URL", url)
    return url


WRITES = {"create", "on", "off", "rollout", "stage", "target", "segment", "revert", "import"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # stdin is not a terminal here: a write needs --yes, as in any script
    code = main(["flags", *argv, *(("--yes",) if argv[0] in WRITES else ())])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_staged_rollout_kill_switch_history_and_revert(
    flags_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "create", "new-checkout", "--stages", "10,25,50,100", "--on")[0] == 0
    _, out, _ = run(capsys, "stage", "new-checkout", "next", "-o", "json")
    assert json.loads(out)["rollout"] == {"on": 25, "off": 75}
    _, out, _ = run(capsys, "off", "new-checkout", "--reason", "errors up", "-o", "json")
    assert json.loads(out)["on"] is False
    _, out, _ = run(capsys, "history", "new-checkout", "-o", "json")
    items = json.loads(out)["items"]
    assert [(i["action"], i["reason"]) for i in items][:1] == [("off", "errors up")]
    _, out, _ = run(capsys, "revert", "new-checkout", "-o", "json")
    assert json.loads(out)["on"] is True and json.loads(out)["version"] == 4


def test_explain_prints_variant_reason_and_bucket(flags_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "create", "new-checkout", "--on", "--rollout", "30")
    code, out, _ = run(capsys, "explain", "new-checkout", "--user", "alice")
    assert code == 0
    assert "reason    SPLIT" in out and "bucket    " in out and "variant   " in out
    code, out, _ = run(capsys, "explain", "new-checkout", "--user", "alice", "-o", "json")
    view = json.loads(out)
    assert view["variant"] == ("on" if view["bucket"] < 30 else "off")


def test_segments_targets_and_batch_eval(
    flags_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "segment", "internal-team", "--where", "email ends_with @example.com")
    run(capsys, "create", "search-v2", "--on")
    run(capsys, "target", "search-v2", "--segment", "internal-team", "--variant", "on")
    run(capsys, "target", "search-v2", "--user", "vip", "--variant", "on")
    lines = '{"targetingKey": "a", "email": "a@example.com"}\n{"targetingKey": "b"}\n\n'
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    _, out, _ = run(capsys, "eval")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["targetingKey"], r["variant"], r["reason"]) for r in rows] == [
        ("a", "on", "TARGETING_MATCH"),
        ("b", "off", "DEFAULT"),
    ]


def test_export_then_import_into_another_store(
    flags_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "create", "pricing", "--kind", "string", "--variant", "a=old",
        "--variant", "b=new", "--weights", "a=50,b=50", "--on")  # fmt: skip
    _, exported, _ = run(capsys, "export")
    target = tmp_path / "flagd.json"
    target.write_text(exported)
    other = (tmp_path / "other.yaml").as_uri()
    assert run(capsys, "import", str(target), "--flags-url", other)[0] == 0
    _, out, _ = run(capsys, "get", "pricing", "--flags-url", other, "-o", "json")
    assert json.loads(out)["rollout"] == {"a": 50, "b": 50}


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (("rollout", "nope", "10"), NotFound),
        (("create", "x", "--rollout", "120"), InvalidInput),
        (("create", "x", "--weights", "on=60,off=60"), InvalidInput),
    ],
)
def test_errors_exit_with_the_class_code(
    flags_url: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], error: type
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == error.exit_code and out == "" and err.startswith("turnout: error: ")


def test_read_only_refuses_writes_and_leaves_the_file(
    flags_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "create", "f", "--on")
    before = (tmp_path / "flags.json").read_bytes()
    code = main(["--read-only", "flags", "off", "f", "--yes"])
    assert code == ReadOnly.exit_code
    assert (tmp_path / "flags.json").read_bytes() == before
