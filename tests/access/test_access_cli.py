"""`veil access ...` and `veil alarms`: the whole flow from the command line, JSON for scripts,
exit 11 on every refusal, 3 on bad input, and no password ever printed."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from veil.__main__ import main
from veil.access.directory import Directory

PASSWORD = "a long enough secret 42"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VEIL_CATALOG_URL", raising=False)
    return tmp_path / "home"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def js(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_users_from_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "access", "user-add", "a.kim", "--role", "analyst", "--by", "a.kim")
    assert code == 3 and "first user must be an admin" in err
    assert js(capsys, "access", "user-add", "root", "--role", "admin", "--by", "root")["role"] == "admin"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(
        capsys,
        "access",
        "user-add",
        "a.kim",
        "--role",
        "analyst",
        "--by",
        "root",
        "--password-stdin",
        "--language",
        "ko",
    )
    assert code == 0 and out.strip() == "added a.kim (analyst)"
    assert PASSWORD not in out + err
    with Directory.open() as d:
        assert d.check_password("a.kim", PASSWORD).language == "ko"
    monkeypatch.setattr("sys.stdin", io.StringIO("another long secret\n"))
    code, out, err = run(capsys, "access", "password", "a.kim", "--by", "root")
    assert code == 0 and "another long secret" not in out + err
    with Directory.open() as d:
        assert d.check_password("a.kim", "another long secret").name == "a.kim"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = run(capsys, "access", "password", "root", "--by", "a.kim")
    assert code == 11 and "short" not in err
    code, _, err = run(capsys, "access", "user-add", "x.y", "--role", "admin", "--by", "a.kim")
    assert code == 11 and "users_admin" in err
    code, _, err = run(
        capsys, "access", "user-add", "someone@example.com", "--role", "employee", "--by", "root"
    )
    assert code == 3 and "e-mail" in err and "someone@example.com" not in err
    code, _, _ = run(capsys, "access", "user-add", "x.y", "--role", "superuser", "--by", "root")
    assert code == 2
    assert (
        js(capsys, "access", "grant", "a.kim", "--role", "privacy_officer", "--by", "root")["role"]
        == "privacy_officer"
    )
    assert js(capsys, "access", "leaving", "a.kim", "--by", "root", "--reason", "notice")["leaving"] is True
    code, _, err = run(capsys, "access", "revoke", "root", "--by", "root", "--reason", "oops")
    assert code == 11
    assert js(capsys, "access", "revoke", "a.kim", "--by", "root", "--reason", "left")["disabled"] is True
    users = js(capsys, "access", "list")
    assert [(u["name"], u["role"], u["disabled"]) for u in users] == [
        ("a.kim", "privacy_officer", True),
        ("root", "admin", False),
    ]
    assert "password" not in json.dumps(users)
    code, out, _ = run(capsys, "access", "list")
    assert "a.kim" in out and "revoked" in out


def test_break_glass_and_alarms_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"  # every hour is a working hour: the test runs at any time
    policy.write_text(
        "access:\n  alarms:\n    working_hours: [0, 24]\n    working_days: [1, 2, 3, 4, 5, 6, 7]\n"
    )
    alarms = ("alarms", "--policy", str(policy))
    run(capsys, "access", "user-add", "root", "--role", "admin", "--by", "root")
    run(capsys, "access", "user-add", "a.kim", "--role", "analyst", "--by", "root")
    run(capsys, "access", "user-add", "p.one", "--role", "privacy_officer", "--by", "root")
    code, out, _ = run(
        capsys, "access", "request", "--as", "a.kim", "--recording", "rec-1", "--reason", "ticket 4", "-q"
    )
    request_id = out.strip()
    assert code == 0 and len(request_id) == 32
    code, _, err = run(capsys, "access", "approve", request_id, "--as", "a.kim")
    assert code == 11 and "break_glass_approve" in err
    approved = js(capsys, "access", "approve", request_id, "--as", "p.one")
    assert approved["status"] == "approved" and approved["decided_by"] == "p.one"
    code, _, err = run(capsys, "access", "approve", request_id, "--as", "p.one")
    assert code == 3 and "approved already" in err
    assert [r["status"] for r in js(capsys, "access", "list", "--requests")] == ["approved"]
    code, _, _ = run(capsys, "access", "request", "--as", "root", "--recording", "rec-1", "--reason", "x")
    assert code == 11  # admins may approve, never ask
    # A leaver asks for raw footage: the alarm is raised, logged once, listed on every run.
    run(capsys, "access", "leaving", "a.kim", "--by", "root", "--reason", "notice")
    run(capsys, "access", "request", "--as", "a.kim", "--recording", "rec-2", "--reason", "one more look")
    (alarm,) = js(capsys, *alarms)
    assert alarm["rule"] == "inactive-account" and alarm["account"] == "a.kim" and alarm["new"] is True
    assert alarm["ledger_seq"] is not None and len(alarm["entries"]) == 1
    (again,) = js(capsys, *alarms, "--since", "1h")
    assert again["alarm_id"] == alarm["alarm_id"] and again["new"] is False
    assert js(capsys, *alarms, "--since", "2999-01-01T00:00:00+00:00") == []
    code, out, _ = run(capsys, *alarms)
    assert "inactive-account" in out and "a.kim" in out
    code, out, err = run(capsys, *alarms, "-q")
    assert code == 0 and out == "" and err == ""
    code, _, err = run(capsys, *alarms, "--since", "yesterday")
    assert code == 3 and "--since" in err
    # --watch: evaluates every N seconds and prints each new alarm once (a.kim's second request
    # falls in the window of the first alarm: folded into it; p.one's is new).
    run(capsys, "access", "request", "--as", "a.kim", "--recording", "rec-3", "--reason", "later")
    run(capsys, "access", "leaving", "p.one", "--by", "root", "--reason", "notice")
    run(capsys, "access", "request", "--as", "p.one", "--recording", "rec-3", "--reason", "audit")
    code, out, _ = run(capsys, *alarms, "--watch", "1", "--rounds", "2", "--json")
    assert code == 0
    assert [(a["rule"], a["account"]) for a in map(json.loads, out.splitlines())] == [
        ("inactive-account", "p.one")
    ]
    code, _, err = run(capsys, "audit", "verify")
    assert code == 0, err
