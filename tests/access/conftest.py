"""Access fixtures: a catalog (SQLite, or a throwaway PostgreSQL schema), a ledger beside it and a
clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.audit.conftest import pg_database, pg_server  # noqa: F401  (fixtures reused)
from veil.access.directory import Directory
from veil.audit.store import Ledger


class Clock:
    """A clock the test sets; starts on a Tuesday at 10:00 UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 3, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def sqlite_catalog(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", tmp_path / "ledger-keys") as led:
        yield led


@pytest.fixture
def directory(catalog_url: str, ledger: Ledger, clock: Clock) -> Iterator[Directory]:
    """The directory on SQLite and on PostgreSQL (a test module may override it with SQLite only)."""
    with Directory.open(catalog_url, ledger=ledger, clock=clock) as d:
        yield d


@pytest.fixture
def sqlite_directory(sqlite_catalog: str, ledger: Ledger, clock: Clock) -> Iterator[Directory]:
    with Directory.open(sqlite_catalog, ledger=ledger, clock=clock) as d:
        yield d


def entries(ledger: Ledger, kind: str | None = None) -> list[dict[str, Any]]:
    """The ledger's entries (seq, time, kind, event), oldest first, through its verified reader."""
    found = ledger.entries(None if kind is None else [kind])
    return [{"seq": e.seq, "time": e.time.isoformat(), "kind": e.kind, "event": e.event} for e in found]


@pytest.fixture
def ledger_clock(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The ledger stamps its entries with the test's clock (replays of days in seconds)."""
    monkeypatch.setattr("veil.audit.store._now", clock)
    return clock
