"""Store fixtures: a Veil home, a ledger and a store in a temporary folder; a throwaway
PostgreSQL (the style of tests/audit/conftest.py); a single-node SeaweedFS S3 gateway."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

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


# --- PostgreSQL (as tests/audit/conftest.py) ---------------------------------------------------


def _pg_bindir() -> Path:
    candidates = []
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    pytest.fail("PostgreSQL server binaries not found (initdb/pg_ctl): run `apt-get install -y postgresql`")


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "veilpg"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "veilpg"], check=True
    )
    return "veilpg"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], user: str | None, log: Path | None = None) -> None:
    full = ["runuser", "-u", user, "--", *cmd] if user else cmd
    done = subprocess.run(full, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        pytest.fail(f"PostgreSQL command failed: {' '.join(cmd)}\n{done.stdout}\n{done.stderr}\n{tail}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A running throwaway PostgreSQL; yields a server URL without database name."""
    bindir, user = _pg_bindir(), _server_user()
    base = Path(tempfile.mkdtemp(prefix="veil-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    data, log, port = base / "data", base / "server.log", _free_port()
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "veil", "--auth=trust", "-E", "UTF8"]
    initdb.append("--no-sync")
    _run(initdb, user)
    options = f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    _run(
        [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
        user,
        log,
    )
    try:
        yield f"postgresql+psycopg://veil@127.0.0.1:{port}"
    finally:
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user, log)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh schema on the session's server, dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = pg_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    yield f"{pg_server}/postgres?options=-csearch_path%3D{name}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


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
