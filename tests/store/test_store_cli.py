"""`veil store put|get|list|expire`: output, --json, -q, and the exit codes (11 access denied,
12 store, 3 bad input). `get` goes through veil.access's guard: users and break-glass windows."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from veil.__main__ import main
from veil.access.breakglass import BreakGlass
from veil.access.directory import Directory
from veil.access.roles import Role
from veil.audit import Ledger, default_key_dir, default_ledger_url
from veil.store.ledgerio import ledger_events
from veil.store.store import backend_key

Capsys = pytest.CaptureFixture[str]


def put(src: Path, capsys: Capsys, *extra: str) -> dict[str, object]:
    args = ["store", "put", str(src), "--recording", "r1", "--owner", "u1", "--policy-version", "2", "--json"]
    assert main([*args, *extra]) == 0
    return dict(json.loads(capsys.readouterr().out))


@pytest.fixture(autouse=True)
def users(home: Path) -> Iterator[BreakGlass]:
    """analyst (reads redacted outputs, may ask for raw), officer (approves), employee."""
    with Ledger.open(default_ledger_url(), default_key_dir()) as ledger, Directory.open(ledger=ledger) as d:
        d.add_user("analyst", Role.ANALYST)
        d.add_user("officer", Role.PRIVACY_OFFICER)
        d.add_user("employee", Role.EMPLOYEE)
        yield BreakGlass(d)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "segment.bin"
    path.write_bytes(b"redacted segment bytes" * 100)
    return path


def test_put_get_list_round_trip(home: Path, src: Path, tmp_path: Path, capsys: Capsys) -> None:
    obj = put(src, capsys)
    assert obj["class"] == "redacted" and obj["segment"] == 0
    assert put(src, capsys) == obj  # idempotent
    out = tmp_path / "back.bin"
    assert main(["store", "get", str(obj["object_id"]), "--as", "analyst", "-o", str(out), "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert out.read_bytes() == src.read_bytes() and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert main(["store", "list", "--json"]) == 0
    assert [o["object_id"] for o in json.loads(capsys.readouterr().out)] == [obj["object_id"]]
    assert main(["store", "list"]) == 0
    assert str(obj["object_id"]) in capsys.readouterr().out


def test_get_to_stdout(home: Path, src: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    args = ["store", "put", str(src), "--recording", "r1", "--owner", "u1", "--policy-version", "2", "-q"]
    assert main(args) == 0
    assert main(["store", "list", "--json"]) == 0
    [obj] = json.loads(capsysbinary.readouterr().out)
    assert main(["store", "get", obj["object_id"], "--as", "analyst"]) == 0
    assert capsysbinary.readouterr().out == src.read_bytes()


def test_raw_get_without_break_glass_exits_11(home: Path, src: Path, tmp_path: Path, capsys: Capsys) -> None:
    obj = put(src, capsys, "--class", "raw")
    out = tmp_path / "raw.bin"
    assert main(["store", "get", str(obj["object_id"]), "--as", "analyst", "-o", str(out)]) == 11
    err = capsys.readouterr().err
    assert "break-glass" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".raw.bin.*"))


def test_raw_get_with_an_approved_window(
    home: Path, src: Path, tmp_path: Path, capsys: Capsys, users: BreakGlass
) -> None:
    obj = put(src, capsys, "--class", "raw")
    req = users.request("analyst", "r1", "incident 118: what was on screen")
    out = tmp_path / "raw.bin"
    get = ["store", "get", str(obj["object_id"]), "-o", str(out), "-q"]
    assert main([*get, "--as", "analyst"]) == 11  # asked, not yet approved
    users.approve(req.request_id, "officer")
    assert main([*get, "--as", "officer"]) == 11  # the approver holds no window
    assert main([*get, "--as", "analyst"]) == 0
    assert out.read_bytes() == src.read_bytes()
    with Ledger.open(default_ledger_url(), default_key_dir()) as ledger:
        [raw] = ledger_events(ledger, kind="raw-access")
        refused = list(ledger_events(ledger, kind="access-refused"))
    assert raw["who"] == "analyst" and raw["approver"] == "officer" and raw["why"].startswith("incident 118")
    assert [r["who"] for r in refused] == ["analyst", "officer"]


def test_only_known_users_with_the_role_read(home: Path, src: Path, capsys: Capsys) -> None:
    obj = put(src, capsys)
    assert main(["store", "get", str(obj["object_id"]), "--as", "stranger"]) == 11
    assert main(["store", "get", str(obj["object_id"]), "--as", "employee"]) == 11
    assert "may not read redacted outputs" in capsys.readouterr().err


def test_tampered_object_exits_12_and_writes_no_output(
    home: Path, src: Path, tmp_path: Path, capsys: Capsys
) -> None:
    obj = put(src, capsys)
    path = home / "objects" / backend_key(str(obj["object_id"]))
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0xFF
    path.write_bytes(bytes(blob))
    out = tmp_path / "back.bin"
    assert main(["store", "get", str(obj["object_id"]), "--as", "analyst", "-o", str(out)]) == 12
    assert "failed authentication" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".back.bin.*"))


def test_expire_shreds_and_get_then_exits_12(home: Path, src: Path, capsys: Capsys) -> None:
    obj = put(src, capsys)
    assert main(["store", "expire", "--now", "2100-01-01T00:00:00", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["shredded"] == [obj["object_id"]]
    assert main(["store", "get", str(obj["object_id"]), "--as", "analyst"]) == 12
    assert "data key destroyed" in capsys.readouterr().err


def test_bad_input_exit_codes(home: Path, tmp_path: Path, capsys: Capsys) -> None:
    args = ["--recording", "r1", "--owner", "u1", "--policy-version", "2"]
    assert main(["store", "put", str(tmp_path / "missing.bin"), *args]) == 3
    assert main(["store", "put", str(tmp_path), *args, "--class", "secret"]) == 2
    assert main(["store", "get", "f" * 32, "--as", "a"]) == 12
    assert main(["store", "expire", "--now", "yesterday"]) == 3
    err = capsys.readouterr().err
    assert "cannot read" in err and "no object" in err and "Traceback" not in err


def test_put_takes_retention_from_the_policy(home: Path, src: Path, tmp_path: Path, capsys: Capsys) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("store:\n  retention_days:\n    redacted: 2\n", encoding="utf-8")
    obj = put(src, capsys, "--policy", str(policy))
    created, expires = (datetime.fromisoformat(str(obj[k])) for k in ("created_at", "expires_at"))
    assert expires - created == timedelta(days=2)
    policy.write_text("store:\n  retention_days:\n    redacted_days: 2\n", encoding="utf-8")
    assert main(["store", "put", str(src), "--recording", "r2", "--owner", "u1", "--policy-version", "2",
                 "--policy", str(policy)]) == 4  # fmt: skip
    assert "did you mean 'redacted'" in " ".join(capsys.readouterr().err.split())  # however wrapped


def test_delete_is_for_a_privacy_officer_and_names_who_and_why(home: Path, src: Path, capsys: Capsys) -> None:
    obj = put(src, capsys)
    object_id = str(obj["object_id"])
    for who in ("analyst", "employee", "nobody"):
        assert main(["store", "delete", object_id, "--as", who, "--reason", "ticket 17", "-q"]) == 11
    capsys.readouterr()
    assert main(["store", "delete", object_id, "--as", "officer", "--reason", "ticket 17", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shredded"] is True
    with Ledger.open(default_ledger_url(), default_key_dir()) as ledger:
        refused = [e for e in ledger_events(ledger, kind="access-refused")]
        deletions = [e for e in ledger_events(ledger, kind="deletion")]
    assert [(e["who"], e["cause"]) for e in refused] == [
        ("analyst", "no-permission"),
        ("employee", "no-permission"),
        ("unknown-account", "not-authenticated"),
    ]
    assert [e["reason"] for e in deletions] == ["request by officer: ticket 17"]
    assert main(["store", "get", object_id, "--as", "analyst", "-o", str(src.with_suffix(".out"))]) == 12


def test_other_bytes_into_a_stored_slot_are_refused(
    home: Path, src: Path, tmp_path: Path, capsys: Capsys
) -> None:
    obj = put(src, capsys)
    other = tmp_path / "other.bin"
    other.write_bytes(b"different bytes" * 100)
    args = ["store", "put", str(other), "--recording", "r1", "--owner", "u1", "--policy-version", "2"]
    assert main(args) == 3
    err = " ".join(capsys.readouterr().err.split())  # rich wraps the message
    assert "already stored as object" in err and str(obj["object_id"])[:20] in err
    assert put(src, capsys) == obj  # the same bytes again: the stored object, nothing new
