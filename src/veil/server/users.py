"""Users for the server: `veil.access.directory.Directory` when installed, else a small fallback.

The server codes against `UserDirectory` (the contract's interface); the fallback keeps users in
its own table of the catalog with argon2 hashes, so the server runs before the access package lands.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, DateTime, Engine, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from veil.access.roles import Permission, Role, allows
from veil.exceptions import AccessDenied, InputError, NotAuthenticated
from veil.server.db import Base, make_engine


class UserLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> Role: ...
    @property
    def disabled(self) -> bool: ...
    @property
    def language(self) -> str: ...


class UserDirectory(Protocol):
    def add_user(
        self, name: str, role: Role, *, password: str | None = None, display_language: str = "en"
    ) -> UserLike: ...
    def set_password(self, name: str, password: str) -> None: ...
    def check_password(self, name: str, password: str) -> UserLike: ...
    def get(self, name: str) -> UserLike | None: ...
    def users(self) -> list[UserLike]: ...
    def revoke(self, name: str, *, by: str, reason: str) -> None: ...
    def require(self, name: str, permission: Permission) -> UserLike: ...


def open_directory(url: str) -> UserDirectory:
    """The access package's Directory on `url` if it is installed, else the fallback."""
    try:
        module = importlib.import_module("veil.access.directory")
    except ModuleNotFoundError:
        return LocalDirectory(make_engine(url))
    return cast(UserDirectory, module.Directory.open(url))


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    disabled: bool
    leaving: bool
    language: str


class _UserRow(Base):
    __tablename__ = "veil_srv_users"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _user(row: _UserRow) -> User:
    return User(row.name, Role(row.role), row.disabled, False, row.language)


# A hash to verify against when the user does not exist, so timing does not tell names apart.
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("veil-no-such-user")


class LocalDirectory:
    """The fallback directory (one table); every call reads the database again."""

    def __init__(self, engine: Engine) -> None:
        Base.metadata.create_all(engine, tables=[_UserRow.__table__])  # type: ignore[list-item]
        self._engine = engine

    def add_user(
        self, name: str, role: Role, *, password: str | None = None, display_language: str = "en"
    ) -> User:
        if not name or len(name) > 200 or not name.isprintable():
            raise InputError("a user name is 1-200 printable characters")
        with Session(self._engine) as s, s.begin():
            if s.get(_UserRow, name) is not None:
                raise InputError("that user already exists")
            row = _UserRow(
                name=name,
                role=role.value,
                password_hash=_HASHER.hash(password) if password else None,
                disabled=False,
                language=display_language,
                created_at=datetime.now(UTC),
            )
            s.add(row)
            return _user(row)

    def set_password(self, name: str, password: str) -> None:
        with Session(self._engine) as s, s.begin():
            row = s.get(_UserRow, name)
            if row is None:
                raise InputError("no such user")
            row.password_hash = _HASHER.hash(password)

    def check_password(self, name: str, password: str) -> User:
        with Session(self._engine) as s:
            row = s.get(_UserRow, name)
            stored = row.password_hash if row is not None and row.password_hash else _DUMMY
            try:
                _HASHER.verify(stored, password)
                ok = row is not None and row.password_hash is not None and not row.disabled
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
            if not ok or row is None:
                raise NotAuthenticated("wrong user name or password")
            return _user(row)

    def get(self, name: str) -> User | None:
        with Session(self._engine) as s:
            row = s.get(_UserRow, name)
            return _user(row) if row is not None else None

    def users(self) -> list[UserLike]:
        with Session(self._engine) as s:
            return [_user(r) for r in s.scalars(select(_UserRow).order_by(_UserRow.name))]

    def revoke(self, name: str, *, by: str, reason: str) -> None:
        with Session(self._engine) as s, s.begin():
            row = s.get(_UserRow, name)
            if row is None:
                raise InputError("no such user")
            row.disabled = True

    def require(self, name: str, permission: Permission) -> User:
        user = self.get(name)
        if user is None or user.disabled:
            raise NotAuthenticated("unknown or revoked user")
        if not allows(user.role, permission):
            raise AccessDenied(f"role {user.role.value} may not use {permission.value}")
        return user
