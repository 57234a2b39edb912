"""`veil audit` commands through typer's CliRunner, and the auditor's documented snippet, run for real."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from veil.audit import cli
from veil.audit.events import CaptureEvent, DeletionEvent
from veil.audit.store import Ledger, default_key_dir, default_ledger_url
from veil.exceptions import VeilError

README = Path(cli.__file__).with_name("README-auditor.md")


def run(args: list[str]) -> tuple[int, str]:
    """Invoke like the top-level main: a VeilError becomes its exit code (and its message output)."""
    result = CliRunner().invoke(cli.app, args)
    if isinstance(result.exception, VeilError):
        return result.exception.exit_code, result.output + str(result.exception)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture
def ledger_args(tmp_path: Path) -> list[str]:
    url, keys = f"sqlite:///{tmp_path / 'l.sqlite3'}", tmp_path / "keys"
    with Ledger.open(url, keys) as ledger:
        for i in range(9):
            ledger.append(CaptureEvent(f"rec-{i}", "video-file", "c" * 64, i))
        ledger.checkpoint()
        ledger.append(DeletionEvent("rec-1", "raw-recording", "retention"))
    return ["--db", url, "--key-dir", str(keys)]


def test_verify_ok_and_failing(ledger_args: list[str]) -> None:
    code, out = run(["verify", *ledger_args, "--json"])
    assert code == 0 and json.loads(out)["ok"] is True and json.loads(out)["size"] == 10
    url = ledger_args[1]
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM veil_ledger_entries WHERE seq = 3"))
    engine.dispose()
    code, out = run(["verify", *ledger_args])
    assert code == 7 and "entry 3" in out


def test_prove_and_consistency(ledger_args: list[str], tmp_path: Path) -> None:
    code, out = run(["prove", "4", *ledger_args, "--json"])
    proof = json.loads(out)
    assert code == 0 and proof["seq"] == 4 and proof["tree_size"] == 10 and len(proof["path"]) == 4
    code, out = run(["checkpoint", *ledger_args])
    assert code == 0 and out.splitlines()[1] == "10"
    kept = tmp_path / "kept.note"
    kept.write_text(out if out.endswith("\n") else out + "\n")
    # The printed note has the same text as the stored one: the CLI strips one newline only.
    code, out = run(["consistency", str(kept), *ledger_args])
    assert code == 0 and "extends the checkpoint of 10" in out
    code, _ = run(["prove", "40", *ledger_args])
    assert code == 7


def test_consistency_fails_on_rollback(ledger_args: list[str], tmp_path: Path) -> None:
    code, out = run(["checkpoint", *ledger_args, "--json"])
    kept = tmp_path / "kept.note"
    kept.write_text(json.loads(out)["note"])
    other = ["--db", f"sqlite:///{tmp_path / 'other.sqlite3'}", "--key-dir", ledger_args[3]]
    # A second log under the same key needs its own state file and an explicit, recorded re-anchor.
    with Ledger.open(other[1], Path(other[3]), state_file=tmp_path / "other.state") as ledger:
        ledger.reanchor(who="officer-a", reason="test fork")
        ledger.append(CaptureEvent("rec-x", "screen", "d" * 64, 1))
    code, out = run(["consistency", str(kept), *other])
    assert code == 7


def test_default_location_follows_veil_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    assert default_ledger_url() == f"sqlite:///{tmp_path / 'home' / 'ledger.sqlite3'}"
    assert default_key_dir() == tmp_path / "home" / "ledger-keys"
    code, out = run(["verify"])
    assert code == 0 and "ok: 0 entries" in out


def _snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_auditor_snippet_verifies_an_export(ledger_args: list[str], tmp_path: Path) -> None:
    script = tmp_path / "verify_export.py"
    script.write_text(_snippet())
    assert len(_snippet().splitlines()) <= 30
    export = tmp_path / "export"
    code, _ = run(["export", str(export), *ledger_args])
    assert code == 0 and len(list((export / "checkpoints").glob("*.note"))) == 2
    done = subprocess.run(
        [sys.executable, str(script), str(export)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "ok: 10 entries" in done.stdout, done.stderr
    # Change one entry in the export: the auditor's lines must now fail.
    lines = (export / "entries.jsonl").read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"rec-2", b"rec-9")
    (export / "entries.jsonl").write_bytes(b"".join(lines))
    done = subprocess.run(
        [sys.executable, str(script), str(export)], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0 and "MISMATCH" in done.stderr


def test_export_refuses_a_non_empty_folder(ledger_args: list[str], tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    code, _ = run(["export", str(tmp_path / "full"), *ledger_args])
    assert code == 8


def test_reanchor_through_the_cli(ledger_args: list[str]) -> None:
    keys = Path(ledger_args[3])
    (keys / "ledger.state").unlink()
    code, out = run(["verify", *ledger_args])
    assert code == 0 and "no signed state file" in out
    code, out = run(["reanchor", *ledger_args, "--who", "officer-a", "--reason", "state file lost"])
    assert code == 0 and "recorded as entry 10" in out
    code, out = run(["verify", *ledger_args])
    assert code == 0 and "signed state file of 11 entries matches" in out
    code, out = run(["reanchor", *ledger_args, "--who", "officer-a", "--reason", "again"])
    assert code == 7 and "already anchored" in out
