"""`turnout flags sync | serve | bucketing` as operators run them: real processes over a file store."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx
import pytest

from tests.support.processes import Processes, wait_for
from turnout.backend.cli import main
from turnout.backend.flags.bucketing import concat_bucket
from turnout.backend.flags.codec import flagset_from_obj
from turnout.backend.flags.flagd_import import import_flagd
from turnout.backend.flags.local import FileStore
from turnout.backend.flags.model import FlagSet
from turnout.backend.flags.sync import replace_atomically, target_path
from turnout.backend.gate import WriteGate

from .shapes import BOOLEAN_ROLLOUT, SEGMENT_ROLLOUT, THREE_WAY_AB, flagset_doc


def _seeded(tmp_path: Path) -> Path:
    path = tmp_path / "store.json"
    path.write_text(json.dumps(flagset_doc(BOOLEAN_ROLLOUT, THREE_WAY_AB, SEGMENT_ROLLOUT)))
    return path


def test_sync_once_writes_the_flagd_document(tmp_path: Path) -> None:
    store = _seeded(tmp_path)
    out = tmp_path / "flagd.json"
    assert main(["flags", "sync", "--flags-url", store.as_uri(), "--to", out.as_uri(), "--once"]) == 0
    written = json.loads(out.read_text())
    assert import_flagd(written) == flagset_from_obj(json.loads(store.read_text()))


def test_sync_follows_the_kill_switch_with_atomic_replaces(tmp_path: Path, processes: Processes) -> None:
    store = _seeded(tmp_path)
    out = tmp_path / "flagd.json"
    proc = processes.turnout(["flags", "sync", "--flags-url", store.as_uri(), "--to", out.as_uri()])
    wait_for(out.exists, "the sync wrote the file")
    first_inode = out.stat().st_ino
    assert json.loads(out.read_text())["flags"]["new-checkout"]["state"] == "ENABLED"
    assert main(["flags", "off", "new-checkout", "--flags-url", store.as_uri(), "--reason", "t",
                 "--yes"]) == 0

    def disabled() -> bool:
        return bool(json.loads(out.read_text())["flags"]["new-checkout"]["state"] == "DISABLED")

    wait_for(disabled, "the file shows the flag DISABLED")
    assert out.stat().st_ino != first_inode  # renamed over, never rewritten in place
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_sync_refuses_a_target_that_is_not_a_file_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _seeded(tmp_path)
    assert main(["flags", "sync", "--flags-url", store.as_uri(), "--to", "http://x/flags.json"]) != 0
    assert "file:///" in capsys.readouterr().err
    with pytest.raises(Exception, match="file:///"):
        target_path("flags.json")


def test_replace_atomically_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    replace_atomically(path, b"{}")
    replace_atomically(path, b"[]")
    assert path.read_bytes() == b"[]" and [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_serve_prints_its_url_answers_and_stops_on_sigterm(tmp_path: Path, processes: Processes) -> None:
    store = _seeded(tmp_path)
    proc, url = processes.listening(["flags", "serve", "--flags-url", store.as_uri(), "--port", "0"],
                                    "http://127.0.0.1:")
    response = httpx.post(f"{url}/ofrep/v1/evaluate/flags/pricing-page",
                          json={"context": {"targetingKey": "alice"}}, timeout=30)
    assert response.status_code == 200 and response.json()["variant"] in ("control", "blue", "green")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_serve_refuses_a_public_address_without_a_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TURNOUT_OFREP_TOKEN", raising=False)
    store = _seeded(tmp_path)
    code = main(["flags", "serve", "--flags-url", store.as_uri(), "--host", "0.0.0.0"])
    assert code != 0 and "without a token" in capsys.readouterr().err


def test_serve_token_comes_from_a_file_and_is_never_printed(tmp_path: Path, processes: Processes) -> None:
    store = _seeded(tmp_path)
    secret = tmp_path / "token"
    secret.write_text("tok-8f2a\n")
    proc, url = processes.listening(["flags", "serve", "--flags-url", store.as_uri(), "--port", "0",
                                     "--token-file", str(secret)], "http://")
    path = f"{url}/ofrep/v1/evaluate/flags/pricing-page"
    body = {"context": {"targetingKey": "alice"}}
    assert httpx.post(path, json=body, timeout=30).status_code == 401
    ok = httpx.post(path, json=body, headers={"Authorization": "Bearer tok-8f2a"}, timeout=30)
    assert ok.status_code == 200
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert "tok-8f2a" not in out + err


def test_bucketing_command_sets_the_rule_with_the_moved_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _seeded(tmp_path)
    assert main(["flags", "bucketing", "concat", "new-checkout", "--flags-url", store.as_uri(),
                 "--dry-run"]) == 0
    assert "(dry run)" in capsys.readouterr().out
    flags: FlagSet = asyncio.run(FileStore(store, WriteGate()).snapshot())
    assert flags.flags["new-checkout"].bucketing == "cbor"
    assert main(["flags", "bucketing", "concat", "--all", "--flags-url", store.as_uri()]) == 2
    assert "without --yes" in capsys.readouterr().err  # a script confirms with --yes
    assert main(["flags", "bucketing", "concat", "--all", "--flags-url", store.as_uri(),
                 "--yes"]) == 0
    out = capsys.readouterr().out
    assert "new-checkout: cbor -> concat" in out and "% of users change variant" in out
    flags = asyncio.run(FileStore(store, WriteGate()).snapshot())
    assert {f.bucketing for f in flags.flags.values()} == {"concat"}
    main(["flags", "explain", "new-checkout", "--user", "user-3", "--flags-url", store.as_uri(),
          "-o", "json"])
    assert json.loads(capsys.readouterr().out)["bucket"] == concat_bucket("new-checkout", "user-3")
    assert main(["flags", "bucketing", "concat", "--flags-url", store.as_uri()]) != 0


def test_a_reader_never_sees_a_partial_file_while_it_is_replaced(tmp_path: Path) -> None:
    """Readers polling the file as the flagd provider does (open, read whole) see the old
    document or the new one, each complete, over many replaces of a document far larger
    than one write(); rewriting in place would show them truncated or mixed files."""
    import threading

    path = tmp_path / "flags.json"
    documents = [json.dumps({"flags": {f"f{i}": {"state": state} for i in range(20_000)}}).encode()
                 for state in ("ENABLED", "DISABLED")]
    replace_atomically(path, documents[0])
    done = threading.Event()
    seen: list[bytes] = []
    reads = [0]

    def read_until_done() -> None:
        while not done.is_set() or reads[0] < 50:
            data = path.read_bytes()
            reads[0] += 1
            if data not in documents:
                seen.append(data)

    reader = threading.Thread(target=read_until_done)
    reader.start()
    try:
        for n in range(200):
            replace_atomically(path, documents[(n + 1) % 2])
    finally:
        done.set()
        reader.join(timeout=120)
    assert not reader.is_alive() and reads[0] >= 50
    assert not seen, f"{len(seen)} partial reads, e.g. {len(seen[0])} of {len(documents[0])} bytes"
