"""The catalog database the access tables live in (the store's catalog by default) and its engine.

The URL is VEIL_CATALOG_URL when set, else SQLite at `veil_home()/catalog.sqlite3`: the same default
as the recording store, so users, grants and objects share one database. Access tables carry their
own MetaData and the prefix `access_`, so they never collide with the store's.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool

from veil.exceptions import StoreError
from veil.store.home import veil_home

CATALOG_ENV = "VEIL_CATALOG_URL"


def catalog_url() -> str:
    env = os.environ.get(CATALOG_ENV)
    return env if env else f"sqlite:///{veil_home() / 'catalog.sqlite3'}"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone; this puts it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: access times are timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url` with the access tables created; StoreError when the URL is unusable or
    the database cannot be reached."""
    try:
        if url in ("sqlite://", "sqlite:///:memory:"):
            engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"cannot use catalog database URL ({type(exc).__name__}); expected e.g. sqlite:///path "
            "or postgresql+psycopg://user@host/db"
        ) from exc
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_connect)
    return engine


def utcnow() -> datetime:
    return datetime.now(UTC)
