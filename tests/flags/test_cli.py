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


def test_rollout_keeps_users_whatever_the_order_and_says_who_moves(
    flags_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "create", "ck", "--on", "--weights", "off=90,on=10")
    code, out, err = run(capsys, "rollout", "ck", "20", "-o", "json")
    assert code == 0 and json.loads(out)["rollout"] == {"off": 80, "on": 20}
    assert err == "ck: 10% of users change variant (10% off → on)\n"
    _, out, _ = run(capsys, "explain", "ck", "--user", "alice", "-o", "json")
    assert json.loads(out)["split"] == "off 0-79, on 80-99"


def _store_bytes(tmp_path: Path) -> bytes | None:
    path = tmp_path / "flags.json"
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("create", "x", "--stages", "a,b"), "--stages: expected rising percentages"),
        (("create", "x", "--variant", "a=1", "--variant", "a=2"), "--variant: variant 'a' given twice"),
        (("create", "x", "--weights", "on=50,on=50"), "--weights: variant 'on' given twice"),
        (("rollout", "f", "--weights", "on=50,on=50"), "--weights: variant 'on' given twice"),
        (("import", "{missing}"), "no such file"),
        (("import", "{dir}"), "is a directory"),
        (("import", "{latin1}"), "not UTF-8 text"),
        (("import", "{huge}"), "larger than 8 MiB"),
        (("import", "{deep}"), "nested too deeply"),
        (("import", "{nested_if}"), "flags.f.targeting.if[1]: a branch must name a variant"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    flags_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], needle: str
) -> None:
    run(capsys, "create", "f", "--on")
    files = {"missing": tmp_path / "nope.json", "dir": tmp_path, "latin1": tmp_path / "l.json",
             "huge": tmp_path / "huge.json", "deep": tmp_path / "deep.json", "nested_if": tmp_path / "n.json"}
    files["latin1"].write_bytes(b'{"flags": {"caf\xe9": {}}}')
    files["huge"].write_bytes(b"[" * (10 * 1024 * 1024))
    files["deep"].write_bytes(b"[" * 200_000)
    files["nested_if"].write_text(json.dumps({"flags": {"f": {
        "state": "ENABLED", "variants": {"a": 1, "b": 2}, "defaultVariant": "a",
        "targeting": {"if": [{"in": [{"var": "x"}, ["y"]]}, {"if": [True, "a", "b"]}, "a"]}}}}))
    argv = tuple(a.format(**{k: str(v) for k, v in files.items()}) for a in argv)
    before = _store_bytes(tmp_path)
    code, out, err = run(capsys, *argv)
    assert (code, out) == (InvalidInput.exit_code, "")
    assert err.startswith("turnout: error: ") and err.count("\n") == 1 and needle in err, err
    assert _store_bytes(tmp_path) == before


def test_explain_of_a_missing_flag_exits_4_like_get(
    flags_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "explain", "nope", "--user", "a")[0] == NotFound.exit_code
    assert run(capsys, "get", "nope")[0] == NotFound.exit_code


def test_the_file_store_keeps_its_mode_across_writes(
    flags_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "create", "f", "--on")
    path = tmp_path / "flags.json"
    path.chmod(0o640)
    assert run(capsys, "off", "f")[0] == 0
    assert path.stat().st_mode & 0o777 == 0o640


async def test_a_read_only_flag_is_changed_only_by_an_import() -> None:
    from turnout.backend.errors import ReadOnly
    from turnout.backend.flags.local import MemoryStore
    from turnout.backend.flags.model import Flag, FlagSet

    store = MemoryStore()
    flag = Flag(key="f", read_only="prerequisites (x)")
    await store.import_flagset(FlagSet(flags={"f": flag}), by="a", reason="")
    with pytest.raises(ReadOnly, match="read-only in Turnout"):
        await store.set_enabled("f", True, by="a", reason="")
    await store.import_flagset(FlagSet(flags={"f": Flag(key="f")}), by="a", reason="")
    assert (await store.set_enabled("f", True, by="a", reason="")).on


def test_users_moved_in_the_dry_run_and_in_json(flags_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "create", "ck", "--on", "--weights", "off=90,on=10")
    code, out, _ = run(capsys, "rollout", "ck", "20", "--dry-run", "-o", "json")
    planned = json.loads(out)
    assert code == 0 and planned["dry_run"] and planned["users_moved"] == 10
    assert planned["moves"] == [{"source": "off", "target": "on", "percent": 10}]
    _, out, _ = run(capsys, "rollout", "ck", "20", "--dry-run")
    assert "10% of users change variant (10% off → on)" in out
    _, out, _ = run(capsys, "rollout", "ck", "20", "-o", "json")
    assert json.loads(out)["users_moved"] == 10 and json.loads(out)["rollout"]["on"] == 20
