"""The catalog database the access tables live in (the store's catalog by default) and its engine.

The URL is VEIL_CATALOG_URL when set, else SQLite at `veil_home()/catalog.sqlite3`: the same default
as the recording store, so users, grants and objects share one database. Access tables carry their
own MetaData and the prefix `access_`, so they never collide with the store's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from veil import sqlengine
from veil.exceptions import StoreError
from veil.store.home import default_catalog_url


def catalog_url() -> str:
    return default_catalog_url()


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


def make_engine(url: str) -> Engine:
    """An engine for `url`; StoreError when the URL is unusable. Writes that pass the
    `WRITE` execution option take SQLite's write lock up front (see `veil.sqlengine`)."""
    return sqlengine.make_engine(url, error=StoreError, what="catalog", immediate_option=WRITE)


WRITE = "veil_access_write"


def utcnow() -> datetime:
    return datetime.now(UTC)
