"""Store fixtures: a Veil home, a ledger and a store in a temporary folder; the throwaway
PostgreSQL of tests/audit/conftest.py; a single-node SeaweedFS S3 gateway."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.audit.conftest import pg_database, pg_server  # noqa: F401  (the throwaway PostgreSQL)
from veil.audit import Ledger
from veil.store.backends import LocalFolderBackend
from veil.store.kek import FileKek
from veil.store.models import Retention
from veil.store.store import RecordingStore

from .seaweed import SeaweedS3, seaweed_s3

SMALL_CHUNK = 1024  # small chunks so the attacks have several to move around


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("VEIL_HOME", str(path))
    monkeypatch.delenv("VEIL_CATALOG_URL", raising=False)
    monkeypatch.delenv("VEIL_LEDGER_KEY_DIR", raising=False)
    monkeypatch.delenv("VEIL_FAULT_INJECTION", raising=False)
    return path


@pytest.fixture
def ledger(home: Path) -> Iterator[Ledger]:
    with Ledger.open(f"sqlite:///{home / 'ledger.sqlite3'}", home / "ledger-keys") as led:
        yield led


StoreFactory = Callable[..., RecordingStore]


@pytest.fixture
def make_store(home: Path, ledger: Ledger) -> Iterator[StoreFactory]:
    opened: list[RecordingStore] = []

    def make(**kw: Any) -> RecordingStore:
        kw.setdefault("catalog_url", f"sqlite:///{home / 'catalog.sqlite3'}")
        kw.setdefault("backend", LocalFolderBackend(home / "objects"))
        kw.setdefault("kek", FileKek(home))
        kw.setdefault("ledger", ledger)
        kw.setdefault("chunk_size", SMALL_CHUNK)
        kw.setdefault("retention", Retention())
        store = RecordingStore.open(**kw)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> RecordingStore:
    return make_store()


# --- SeaweedFS -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedS3]:
    base = Path(tempfile.mkdtemp(prefix="veil-seaweed-"))
    try:
        with seaweed_s3(base) as s3:
            yield s3
    except RuntimeError as exc:
        pytest.fail(f"SeaweedFS could not start: {exc}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
