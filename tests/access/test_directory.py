"""The user directory: roles, passwords (argon2 only), revocation on the next request, every change
in the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.access.conftest import Clock, entries
from veil.access.directory import Directory
from veil.access.roles import Permission, Role
from veil.audit.events import LedgerEvent
from veil.audit.store import EntryRef, Ledger
from veil.exceptions import AccessDenied, InputError, LedgerError, NotAuthenticated

PASSWORD = "correct horse battery"


@pytest.fixture
def both(catalog_url: str, ledger: Ledger, clock: Clock) -> Iterator[tuple[Directory, Directory]]:
    """Two handles on one catalog: the web server's and the admin's CLI."""
    with (
        Directory.open(catalog_url, ledger=ledger, clock=clock) as server,
        Directory.open(catalog_url, ledger=ledger, clock=clock) as admin,
    ):
        yield server, admin


def test_revocation_takes_effect_on_the_next_request(both: tuple[Directory, Directory]) -> None:
    server, admin = both
    admin.add_user("a.kim", Role.ANALYST, password=PASSWORD, by="root")
    assert server.require("a.kim", Permission.REDACTED_OUTPUTS).role is Role.ANALYST
    assert server.check_password("a.kim", PASSWORD).name == "a.kim"
    admin.revoke("a.kim", by="root", reason="left the company")
    with pytest.raises(NotAuthenticated):
        server.require("a.kim", Permission.REDACTED_OUTPUTS)
    with pytest.raises(NotAuthenticated):
        server.check_password("a.kim", PASSWORD)
    user = server.get("a.kim")
    assert user is not None and user.disabled and user.revoked_at is not None


def test_require_checks_the_role(directory: Directory) -> None:
    directory.add_user("e.lee", Role.EMPLOYEE)
    directory.add_user("p.o", Role.PRIVACY_OFFICER)
    assert directory.require("e.lee", Permission.OWN_SUMMARIES).name == "e.lee"
    with pytest.raises(AccessDenied) as denied:
        directory.require("e.lee", Permission.REDACTED_OUTPUTS)
    assert not isinstance(denied.value, NotAuthenticated)
    assert denied.value.exit_code == 11 and denied.value.http_status == 403
    with pytest.raises(NotAuthenticated) as unknown:
        directory.require("nobody", Permission.OWN_SUMMARIES)
    assert unknown.value.http_status == 401
    directory.require("p.o", Permission.BREAK_GLASS_APPROVE)


def test_role_grant_applies_at_once(both: tuple[Directory, Directory]) -> None:
    server, admin = both
    admin.add_user("b.sato", Role.EMPLOYEE, by="root")
    with pytest.raises(AccessDenied):
        server.require("b.sato", Permission.MINING)
    admin.grant_role("b.sato", Role.ANALYST, by="root", reason="joined operations")
    assert server.require("b.sato", Permission.MINING).role is Role.ANALYST
    admin.grant_role("b.sato", Role.EMPLOYEE, by="root", reason="back to the desk")
    with pytest.raises(AccessDenied):
        server.require("b.sato", Permission.MINING)


def test_passwords_are_argon2_hashes_only(directory: Directory, sqlite_catalog: str) -> None:
    directory.add_user("c.martin", Role.ADMIN, password=PASSWORD, display_language="fr")
    with directory.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM access_users WHERE name = 'c.martin'")).mappings().one()
    assert PASSWORD not in " ".join(str(v) for v in row.values())
    assert str(row["password_hash"]).startswith("$argon2id$")
    assert directory.check_password("c.martin", PASSWORD).language == "fr"
    for wrong in ("correct horse batterY", ""):
        with pytest.raises(NotAuthenticated) as exc:
            directory.check_password("c.martin", wrong)
        assert wrong not in str(exc.value) or not wrong
    with pytest.raises(NotAuthenticated):
        directory.check_password("nobody", PASSWORD)
    directory.add_user("no.pass", Role.EMPLOYEE)
    with pytest.raises(NotAuthenticated):
        directory.check_password("no.pass", PASSWORD)
    directory.set_password("c.martin", "another long secret")
    with pytest.raises(NotAuthenticated):
        directory.check_password("c.martin", PASSWORD)
    assert directory.check_password("c.martin", "another long secret").role is Role.ADMIN


def test_bad_input_is_refused_clearly(directory: Directory) -> None:
    directory.add_user("d.tan", Role.EMPLOYEE)
    with pytest.raises(InputError, match="already exists"):
        directory.add_user("d.tan", Role.ADMIN)
    with pytest.raises(InputError, match="e-mail"):
        directory.add_user("someone@example.com", Role.EMPLOYEE)
    with pytest.raises(InputError, match="role"):
        directory.add_user("x.y", "superuser")
    with pytest.raises(InputError, match="language"):
        directory.add_user("x.y", Role.EMPLOYEE, display_language="de")
    with pytest.raises(InputError, match="at least"):
        directory.add_user("x.y", Role.EMPLOYEE, password="short")
    with pytest.raises(InputError, match="no user"):
        directory.revoke("ghost", by="root", reason="r")
    with pytest.raises(InputError, match="reason"):
        directory.revoke("d.tan", by="root", reason=" ")
    assert [u.name for u in directory.users()] == ["d.tan"]


def test_every_change_is_in_the_ledger(directory: Directory, ledger: Ledger) -> None:
    directory.add_user("f.ito", Role.EMPLOYEE, password=PASSWORD, by="root", reason="hired")
    directory.grant_role("f.ito", Role.ANALYST, by="root", reason="promoted")
    directory.mark_leaving("f.ito", by="hr.bot", reason="notice given")
    directory.revoke("f.ito", by="root", reason="last day")
    directory.revoke("f.ito", by="root", reason="again")  # no-op: nothing more recorded
    got = [(e["event"]["action"], e["event"]["role"], e["event"]["by"]) for e in entries(ledger)]
    assert got == [
        ("user-added", "employee", "root"),
        ("role-granted", "analyst", "root"),
        ("leaving", "analyst", "hr.bot"),
        ("revoked", "analyst", "root"),
    ]
    assert all(e["kind"] == "access-change" and e["event"]["user"] == "f.ito" for e in entries(ledger))
    assert PASSWORD not in str(entries(ledger))
    ledger.verify().raise_for_failure()
    user = directory.get("f.ito")
    assert user is not None and user.leaving and user.disabled


class BrokenLedger(Ledger):
    """A ledger whose every append fails, as when its database is down."""

    def __init__(self) -> None:
        pass

    def append(self, event: LedgerEvent) -> EntryRef:
        raise LedgerError("ledger append failed: OperationalError")


def test_narrowing_applies_even_when_the_ledger_fails_widening_does_not(sqlite_catalog: str) -> None:
    good = Directory.open(sqlite_catalog, ledger=None)
    broken = Directory(good.engine, BrokenLedger())
    with pytest.raises(LedgerError):
        broken.add_user("g.mori", Role.ANALYST)
    assert broken.get("g.mori") is None  # never granted without its entry
    good.add_user("g.mori", Role.EMPLOYEE)
    with pytest.raises(LedgerError):
        broken.grant_role("g.mori", Role.ANALYST, by="root")
    assert broken.require("g.mori", Permission.OWN_SUMMARIES).role is Role.EMPLOYEE
    with pytest.raises(LedgerError):
        broken.revoke("g.mori", by="root", reason="left")
    with pytest.raises(NotAuthenticated):  # revoked although the entry could not be written
        broken.require("g.mori", Permission.OWN_SUMMARIES)
    good.close()


def test_default_catalog_is_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VEIL_CATALOG_URL", raising=False)
    with Directory.open() as d:
        d.add_user("h.roux", Role.EMPLOYEE)
    assert (tmp_path / "home" / "catalog.sqlite3").exists()
    assert (tmp_path / "home" / "ledger.sqlite3").exists()
    monkeypatch.setenv("VEIL_CATALOG_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    with Directory.open() as d:
        assert d.users() == []
