"""Everything a request needs, opened once per app: catalog engine, ledger, segment sink, users."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veil.access.directory import Directory
from veil.access.guard import AccessGuard
from veil.audit import EntryRef, Ledger, default_key_dir, default_ledger_url
from veil.audit._tables import make_engine as make_ledger_engine
from veil.audit.events import LedgerEvent
from veil.server.db import WRITE, GateRow, NonceRow, PauseRow, make_engine
from veil.server.settings import Settings
from veil.server.sink import SegmentSink, StoreSink
from veil.store.backends import LocalFolderBackend
from veil.store.kek import FileKek, KeyProvider
from veil.store.models import Retention
from veil.store.store import RecordingStore
from veil.uplink import MAX_SKEW_SECONDS

GATE_STEPS = ("notice", "consultation", "purpose", "impact_assessment")


class DbNonceBook:
    """The uplink's NonceBook in the catalog: a replay is refused across workers and restarts."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def first_use(self, device: str, nonce: str, timestamp: int) -> bool:
        horizon = int(datetime.now(UTC).timestamp()) - 2 * MAX_SKEW_SECONDS
        try:
            with Session(self._engine) as s, s.begin():
                s.execute(delete(NonceRow).where(NonceRow.timestamp < horizon))
                s.add(NonceRow(device_id=device, nonce=nonce, timestamp=timestamp))
        except IntegrityError:
            return False
        return True


@dataclass
class Context:
    settings: Settings
    engine: Engine
    ledger: Ledger
    ledger_engine: Engine  # read-only views of the entries (egress log, alarms, portal)
    sink: SegmentSink
    directory: Directory
    nonces: DbNonceBook
    ledger_lock: threading.Lock
    kek: KeyProvider = field(default_factory=FileKek)  # the store's: wraps redaction jobs' upload keys

    @classmethod
    def open(cls, settings: Settings, *, sink: SegmentSink | None = None) -> Context:
        engine = make_engine(settings.catalog())
        ledger_url = settings.ledger_url or default_ledger_url()
        key_dir = settings.ledger_key_dir or default_key_dir()
        ledger = Ledger.open(ledger_url, key_dir)
        # The directory and the store append their own entries (access changes, objects stored and
        # read): each its own Ledger object on the same database and key, as another process would.
        directory = Directory.open(settings.catalog(), ledger=Ledger.open(ledger_url, key_dir))
        return cls(
            settings,
            engine,
            ledger,
            make_ledger_engine(ledger_url),
            sink or open_sink(settings, directory, Ledger.open(ledger_url, key_dir)),
            directory,
            DbNonceBook(engine),
            threading.Lock(),
        )

    def close(self) -> None:
        self.ledger.close()
        self.directory.ledger().close()
        self.directory.close()
        self.ledger_engine.dispose()
        self.engine.dispose()

    def append(self, event: LedgerEvent) -> EntryRef:
        with self.ledger_lock:
            return self.ledger.append(event)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction on the catalog. On SQLite it takes the write lock up front (BEGIN
        IMMEDIATE): a transaction that reads and then writes would otherwise fail at once with
        "database is locked" when another connection wrote in between (WAL gives no busy wait
        on that upgrade), as a pause from the portal did while an agent's segment was stored."""
        with Session(self.engine.execution_options(**{WRITE: True})) as s, s.begin():
            yield s

    def gate_missing(self) -> list[str]:
        with Session(self.engine) as s:
            done = set(s.scalars(select(GateRow.step)))
        return [step for step in GATE_STEPS if step not in done]

    def paused(self, owner: str) -> bool:
        with Session(self.engine) as s:
            row = s.get(PauseRow, owner)
            return bool(row and row.paused)


def open_sink(settings: Settings, directory: Directory, ledger: Ledger) -> SegmentSink:
    """The recording store on the catalog, objects under the data folder, reads guarded by roles
    and break-glass windows (veil.access.guard), retention as the settings say."""
    store = RecordingStore.open(
        catalog_url=settings.catalog(),
        backend=LocalFolderBackend(settings.data() / "objects"),
        ledger=ledger,
        guard=AccessGuard(directory),
        retention=Retention(redacted_days=settings.retention_days),
    )
    return StoreSink(store)
