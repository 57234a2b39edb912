"""Who the users are: name, role, disabled, leaving, display language, argon2 password hash.

    directory = Directory.open()                      # VEIL_CATALOG_URL, else the home folder's catalog
    directory.add_user("a.kim", Role.ANALYST, password="...", by="root-admin")
    directory.require("a.kim", Permission.REDACTED_OUTPUTS)   # re-reads the database every call
    directory.revoke("a.kim", by="root-admin", reason="left the company")   # the next request fails

Every change is a ledger entry (`AccessChangeEvent`). Order matters when one of the two writes fails:
a change that narrows access (revoke, leaving) is applied first and recorded after, so a ledger outage
never keeps a leaver in; a change that widens it (a new user, a role) is recorded first and applied
after, so nobody ever holds a privilege the ledger does not show. The directory does not check who
`by` is: the caller (the server, the CLI) has authorised the actor already.

User names are the organisation's account ids (letters, digits, `.`, `_`, `-`; no `@`, so no e-mail
address lands in the ledger). Passwords are never stored: argon2id hashes only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Engine, String, Text, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from veil.access._db import WRITE, Base, UtcDateTime, catalog_url, make_engine, utcnow
from veil.access.roles import Permission, Role, allows
from veil.audit.events import MAX_TEXT, AccessChangeEvent, LedgerEvent
from veil.exceptions import AccessDenied, InputError, NotAuthenticated, StoreError
from veil.sqlengine import create_tables

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from veil.audit.store import Ledger
    from veil.detect.analyzer import SupportsAnalyze

LANGUAGES = ("ko", "ja", "fr", "en")
MIN_PASSWORD = 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    disabled: bool
    leaving: bool
    language: str
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    def can(self, permission: Permission) -> bool:
        return not self.disabled and allows(self.role, permission)


class UserRow(Base):
    __tablename__ = "access_users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    leaving: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(2), default="en")
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    def to_user(self) -> User:
        return User(
            self.name,
            Role(self.role),
            self.disabled,
            self.leaving,
            self.language,
            self.created_at,
            self.revoked_at,
        )


def check_name(name: str, what: str = "user name") -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(
            f"invalid {what}: use 1-64 letters, digits, '.', '_' or '-' (an account id, not an e-mail)"
        )
    return name


def check_reason(text: str) -> str:
    """A reason, stripped, if it is one line of metadata with nothing personal in it: it is kept in
    the ledger for good. Veil's own detectors screen it; a finding is refused with its type and
    position only ("refer to a ticket number instead")."""
    text = text.strip()
    if len(text) > MAX_TEXT or "\n" in text or "\r" in text:
        raise InputError(f"a reason is one line of at most {MAX_TEXT} characters")
    if text:
        found = _analyzer().analyze(text)
        if found:
            where = ", ".join(f"{f.type} at {f.start}-{f.end}" for f in found)
            raise InputError(
                f"the reason looks like it holds personal data ({where}); it would stay in the ledger "
                "for good: refer to a ticket or case number instead"
            )
    return text


@functools.cache
def _analyzer() -> SupportsAnalyze:
    from veil.detect.registry import default_analyzer
    from veil.options import Policy

    return default_analyzer(Policy().detect)


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InputError(f"unknown role; expected one of: {', '.join(r.value for r in Role)}") from None


class Directory:
    """Users in the catalog database. Use `Directory.open`; the ledger opens on the first change."""

    def __init__(self, engine: Engine, ledger: Ledger | None = None, clock: Clock = utcnow) -> None:
        self._engine = engine
        self._ledger = ledger
        self._own_ledger = False
        self.clock = clock

    @classmethod
    def open(
        cls, url: str | None = None, *, ledger: Ledger | None = None, clock: Clock = utcnow
    ) -> Directory:
        """Connect to `url` (default: VEIL_CATALOG_URL, else SQLite in the Veil home folder) and
        create the access tables if missing. `ledger`: default, the Veil home folder's ledger."""
        engine = make_engine(url or catalog_url())
        try:
            create_tables(engine, Base.metadata, immediate_option=WRITE)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the access catalog: {type(exc).__name__}") from exc
        return cls(engine, ledger, clock)

    @property
    def engine(self) -> Engine:
        return self._engine

    def ledger(self) -> Ledger:
        if self._ledger is None:
            from veil.audit.store import Ledger, default_key_dir, default_ledger_url

            self._ledger = Ledger.open(default_ledger_url(), default_key_dir())
            self._own_ledger = True
        return self._ledger

    def record(self, event: LedgerEvent) -> int:
        """Append `event` to the ledger; its sequence number."""
        return self.ledger().append(event).seq

    def close(self) -> None:
        if self._own_ledger and self._ledger is not None:
            self._ledger.close()
        self._engine.dispose()

    def __enter__(self) -> Directory:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    # --- reading -------------------------------------------------------------------------------

    def get(self, name: str) -> User | None:
        try:
            with Session(self._engine, expire_on_commit=False) as s:
                row = s.get(UserRow, name)
                return row.to_user() if row is not None else None
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc

    def users(self) -> list[User]:
        try:
            with Session(self._engine, expire_on_commit=False) as s:
                return [r.to_user() for r in s.scalars(select(UserRow).order_by(UserRow.name))]
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc

    def require(self, name: str, permission: Permission) -> User:
        """The user `name` if they may use `permission` now. Read from the database on every call,
        so a revocation is effective on the next request. NotAuthenticated for an unknown or
        revoked user, AccessDenied when the role lacks the permission."""
        user = self.get(name)
        if user is None or user.disabled:
            raise NotAuthenticated("unknown or revoked user")
        if not allows(user.role, permission):
            raise AccessDenied(f"role {user.role.value} does not have permission {permission.value}")
        return user

    def check_password(self, name: str, password: str) -> User:
        """The user when `password` is theirs and they are not revoked; NotAuthenticated otherwise
        (the same message whatever was wrong)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        hasher = _hasher()
        try:
            with Session(self._engine, expire_on_commit=False) as s, s.begin():
                row = s.get(UserRow, name) if isinstance(name, str) else None
                stored = row.password_hash if row is not None else None
                try:
                    # A dummy hash for unknown users keeps the timing the same as a wrong password.
                    hasher.verify(stored or _dummy_hash(), password)
                except (VerificationError, InvalidHashError):
                    stored = None
                if row is None or stored is None or row.disabled:
                    raise NotAuthenticated("wrong user name or password, or the user is revoked")
                if hasher.check_needs_rehash(stored):
                    row.password_hash = hasher.hash(password)
                return row.to_user()
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc

    # --- changing ------------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        role: Role | str,
        *,
        password: str | None = None,
        display_language: str = "en",
        by: str = "system",
        reason: str = "",
    ) -> User:
        """A new user; InputError when the name is taken or invalid. Recorded, then applied."""
        check_name(name)
        check_name(by, "account id of the actor")
        reason = check_reason(reason)
        role = _role(role)
        if display_language not in LANGUAGES:
            raise InputError(f"unknown display language; expected one of: {', '.join(LANGUAGES)}")
        hashed = _hash(password) if password is not None else None
        if self.get(name) is not None:
            raise InputError(f"user {name} already exists")
        self.record(AccessChangeEvent(user=name, action="user-added", role=role.value, by=by, reason=reason))
        now = self.clock()
        row = UserRow(
            name=name,
            role=role.value,
            disabled=False,
            leaving=False,
            language=display_language,
            password_hash=hashed,
            created_at=now,
            changed_at=now,
        )
        try:
            with Session(self._engine, expire_on_commit=False) as s, s.begin():
                s.add(row)
        except IntegrityError as exc:
            raise InputError(f"user {name} already exists") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc
        return row.to_user()

    def set_password(self, name: str, password: str) -> None:
        hashed = _hash(password)
        self._update(name, lambda row: setattr(row, "password_hash", hashed))

    def set_language(self, name: str, language: str) -> None:
        if language not in LANGUAGES:
            raise InputError(f"unknown display language; expected one of: {', '.join(LANGUAGES)}")
        self._update(name, lambda row: setattr(row, "language", language))

    def grant_role(self, name: str, role: Role | str, *, by: str, reason: str = "") -> User:
        """Give `name` the role `role` (replacing the old one). Recorded, then applied."""
        role = _role(role)
        reason = check_reason(reason)
        user = self._existing(name)
        if user.disabled:
            raise InputError(f"user {name} is revoked; add a new account instead")
        if user.role is role:
            return user
        self.record(
            AccessChangeEvent(user=name, action="role-granted", role=role.value, by=by, reason=reason)
        )
        return self._update(name, lambda row: setattr(row, "role", role.value))

    def mark_leaving(self, name: str, *, by: str, reason: str = "", leaving: bool = True) -> User:
        """Flag a user who is leaving (their every access raises an alarm), or clear the flag."""
        reason = check_reason(reason)
        user = self._existing(name)
        if user.leaving == leaving:
            return user
        after = self._update(name, lambda row: setattr(row, "leaving", leaving))
        action = "leaving" if leaving else "staying"
        self.record(AccessChangeEvent(user=name, action=action, role=user.role.value, by=by, reason=reason))
        return after

    def revoke(self, name: str, *, by: str, reason: str) -> None:
        """Disable `name`: effective on their next request (applied first, then recorded). Revoking
        a revoked user changes nothing and records nothing."""
        reason = check_reason(reason)
        if not reason:
            raise InputError("a revocation needs a reason")
        user = self._existing(name)
        if user.disabled:
            return
        now = self.clock()

        def disable(row: UserRow) -> None:
            row.disabled = True
            row.revoked_at = now

        self._update(name, disable)
        self.record(
            AccessChangeEvent(user=name, action="revoked", role=user.role.value, by=by, reason=reason)
        )

    def _existing(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise InputError(f"no user {check_name(name)}")
        return user

    def _update(self, name: str, change: Callable[[UserRow], None]) -> User:
        try:
            with Session(self._engine, expire_on_commit=False) as s, s.begin():
                row = s.get(UserRow, name)
                if row is None:
                    raise InputError(f"no user {check_name(name)}")
                change(row)
                row.changed_at = self.clock()
                return row.to_user()
        except SQLAlchemyError as exc:
            raise StoreError(f"access catalog unavailable: {type(exc).__name__}") from exc


@functools.cache
def _hasher() -> PasswordHasher:
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:  # the `server` extra
        raise InputError("passwords need argon2-cffi: pip install 'veil[server]'") from exc
    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("veil-no-such-user")


def _hash(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher().hash(password)
