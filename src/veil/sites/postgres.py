"""A PostgreSQL primary with a streaming standby on loopback, for the catalog and the ledger.

    with PgPair(base) as pg:                  # initdb, pg_basebackup -R, wait for streaming
        engine_url = pg.url                   # the writable node (the primary, then the standby)
        pg.stop_primary()                     # lose the first site's database (immediate stop)
        pg.promote()                          # the standby takes over; returns once it is writable
        pg.reprotect()                        # the lost site is back: a new synchronous standby there

With `synchronous=True` (the default) the primary names the standby in synchronous_standby_names and
keeps synchronous_commit=on: a commit is acknowledged only after the standby flushed its WAL, so
every acknowledged commit survives the loss of the primary. Asynchronous streaming may lose the
commits of the last moments (see docs/sites.md).

The binaries come from PATH or /usr/lib/postgresql/<ver>/bin. initdb refuses to run as root, so as
root every server command runs as the `postgres` system user (or a `veilpg` user made here); the
base folder must then be enterable by that user (`make_base_dir` makes one that is).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from veil.sites._proc import SiteError, free_port, log_tail

STANDBY_NAME = "standby"
APP_ROLE = "veil"
REPLICATION_ROLE = "replicator"
DATABASE = "veil"


def pg_bindir() -> Path:
    """The folder holding initdb and pg_ctl: beside pg_ctl on PATH, else the newest Debian one."""
    candidates = []
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise SiteError("PostgreSQL server binaries not found (initdb/pg_ctl): apt-get install postgresql")


def server_user() -> str | None:
    """None when not root; otherwise a non-root system user to run the server as."""
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


def make_base_dir(prefix: str = "veil-pg-") -> Path:
    """A fresh folder the server user owns (a root process's own tmp folders are private)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    give_to_server_user(base)
    return base


def give_to_server_user(path: Path) -> None:
    user = server_user()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def run_as(cmd: list[str], user: str | None, log: Path | None = None, timeout: float = 120) -> str:
    """Run a server command (as `user` when root); SiteError with its output and log tail."""
    full = ["runuser", "-u", user, "--", *cmd] if user else cmd
    try:
        done = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SiteError(f"PostgreSQL command timed out after {timeout:.0f} s: {Path(cmd[0]).name}") from exc
    if done.returncode != 0:
        tail = log_tail(log) if log else ""
        raise SiteError(f"PostgreSQL command failed: {' '.join(cmd)}\n{done.stdout}\n{done.stderr}\n{tail}")
    return done.stdout


@dataclass(frozen=True)
class Node:
    name: str
    data: Path
    port: int
    log: Path

    def url(self, database: str = DATABASE) -> str:
        """SQLAlchemy URL; a short connect timeout so a lost node fails fast."""
        return f"postgresql+psycopg://{APP_ROLE}@127.0.0.1:{self.port}/{database}?connect_timeout=3"

    def conninfo(self, database: str = DATABASE) -> str:
        return f"host=127.0.0.1 port={self.port} user={APP_ROLE} dbname={database} connect_timeout=3"


class PgPair:
    """A primary and its streaming standby under `base` (see make_base_dir); always `stop()`."""

    def __init__(self, base: Path, *, synchronous: bool = True, timeout: float = 60.0) -> None:
        self.base = base
        self.synchronous = synchronous
        self.timeout = timeout
        self.bindir = pg_bindir()
        self.user = server_user()
        self.primary = Node("primary", base / "primary", free_port(), base / "primary.log")
        self.standby = Node("standby", base / "standby", free_port(), base / "standby.log")
        self.active = self.primary
        self._secret = secrets.token_urlsafe(18)
        self._running: set[str] = set()
        self._rejoins = 0

    @property
    def url(self) -> str:
        """The URL of the node that takes writes now."""
        return self.active.url()

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> PgPair:
        try:
            self._init_primary()
            self._start(self.primary)
            self._sql(self.primary, "postgres", f"CREATE DATABASE {DATABASE}")
            self._sql(
                self.primary,
                "postgres",
                f"CREATE ROLE {REPLICATION_ROLE} WITH REPLICATION LOGIN PASSWORD '{self._secret}'",
            )
            self._init_standby()
            self._start(self.standby)
            self._name_standby()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in (self.standby, self.primary):
            if node.name in self._running:
                self._ctl(node, "stop", "-m", "immediate")
                self._running.discard(node.name)

    def __enter__(self) -> PgPair:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- site loss -----------------------------------------------------------------------------

    def stop_primary(self) -> None:
        """Lose the primary: immediate stop (no checkpoint, clients cut off mid-transaction)."""
        self._ctl(self.primary, "stop", "-m", "immediate")
        self._running.discard(self.primary.name)

    def stop_standby(self) -> None:
        """Cut the standby off (a link down between the sites): a fast stop."""
        self._ctl(self.standby, "stop", "-m", "fast")
        self._running.discard(self.standby.name)

    def start_standby(self) -> None:
        """Start the standby again; it catches up from the primary if the primary is still there."""
        self._start(self.standby)

    def promote(self) -> None:
        """Promote the standby and return once it accepts writes; it becomes `active`."""
        self._ctl(self.standby, "promote")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                self._sql(self.standby, DATABASE, "SELECT pg_current_xact_id()")  # fails in recovery
            except SiteError:
                time.sleep(0.1)
                continue
            self.active = self.standby
            return
        raise SiteError(
            f"standby not writable {self.timeout:.0f} s after promote:\n{log_tail(self.standby.log)}"
        )

    def reprotect(self) -> float:
        """After `promote`: the lost site is back, so attach a new synchronous standby there.

        The old primary's data folder is thrown away (it may hold commits the promoted node never
        saw, on the old timeline: it must never come back as a primary), a fresh base backup of the
        promoted node is taken into a new folder on a new port, started, and named in the new
        primary's synchronous_standby_names. From then on the promise "nothing lost" again rests on
        two sites, and losing the promoted node is survived like the first loss. Returns the seconds
        from the call until the new standby streams synchronously. (pg_rewind could reuse the old
        folder and copy less, but needs wal_log_hints or data checksums; a base backup needs
        nothing and is what a rebuilt site would do anyway.)"""
        if self.active is not self.standby or self.primary.name in self._running:
            raise SiteError("reprotect needs a promoted standby and the old primary stopped")
        started = time.monotonic()
        self._rejoins += 1
        old = self.primary
        shutil.rmtree(old.data, ignore_errors=True)
        name = f"rejoined-{self._rejoins}"
        self.primary = self.standby
        self.standby = Node(name, self.base / name, free_port(), self.base / f"{name}.log")
        self._init_standby()
        self._start(self.standby)
        self._name_standby()
        return time.monotonic() - started

    def _name_standby(self) -> None:
        """Once the standby streams: name it synchronous (when asked) and wait until it is."""
        if self.synchronous:
            setting = f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME}'"
            self._sql(self.primary, "postgres", setting)
            self._sql(self.primary, "postgres", "SELECT pg_reload_conf()")
        self.wait_streaming()

    def wait_streaming(self) -> None:
        """Until the primary reports the standby streaming (and synchronous when asked)."""
        want = "sync" if self.synchronous else "async"
        query = "SELECT state, sync_state FROM pg_stat_replication WHERE application_name = %s"
        deadline = time.monotonic() + self.timeout
        rows: list[tuple[Any, ...]] = []
        while time.monotonic() < deadline:
            rows = self._sql(self.primary, "postgres", query, (STANDBY_NAME,))
            if rows and rows[0] == ("streaming", want):
                return
            time.sleep(0.2)
        raise SiteError(f"standby not streaming ({want}) after {self.timeout:.0f} s: {rows}")

    # --- set-up --------------------------------------------------------------------------------

    def _init_primary(self) -> None:
        initdb = [str(self.bindir / "initdb"), "-D", str(self.primary.data), "-U", APP_ROLE]
        run_as([*initdb, "--auth=trust", "-E", "UTF8", "--no-sync"], self.user)
        hba = (
            "local all all trust\n"
            f"host all {APP_ROLE} 127.0.0.1/32 trust\n"
            f"host replication {REPLICATION_ROLE} 127.0.0.1/32 scram-sha-256\n"
        )
        self._write(self.primary.data / "pg_hba.conf", hba)
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.base),
            "wal_level": "replica",
            "max_wal_senders": "4",
            "wal_keep_size": "64MB",
            "password_encryption": "scram-sha-256",
            "synchronous_commit": "on",
            # Named once the standby streams (start): until then every commit would wait for it.
            "synchronous_standby_names": "",
            "shared_buffers": "16MB",
        }
        self._append_conf(self.primary, settings)

    def _init_standby(self) -> None:
        conninfo = (
            f"host=127.0.0.1 port={self.primary.port} user={REPLICATION_ROLE} "
            f"password={self._secret} application_name={STANDBY_NAME}"
        )
        basebackup = [str(self.bindir / "pg_basebackup"), "-d", conninfo, "-D", str(self.standby.data)]
        run_as([*basebackup, "-R", "-X", "stream", "--no-sync", "-c", "fast"], self.user, self.primary.log)
        # After promotion this node has no standby of its own: naming one would block every commit.
        self._append_conf(self.standby, {"primary_conninfo": conninfo, "synchronous_standby_names": ""})

    def _append_conf(self, node: Node, settings: dict[str, str]) -> None:
        """Settings in postgresql.auto.conf (the last line wins); port is per node."""
        path = node.data / "postgresql.auto.conf"
        lines = [f"{k} = '{v}'" for k, v in {**settings, "port": str(node.port)}.items()]
        self._write(path, path.read_text() + "\n".join(lines) + "\n")

    def _write(self, path: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _start(self, node: Node) -> None:
        self._ctl(node, "start", "-l", str(node.log))
        self._running.add(node.name)

    def _ctl(self, node: Node, *args: str) -> None:
        cmd = [str(self.bindir / "pg_ctl"), "-D", str(node.data), "-w", "-t", str(int(self.timeout))]
        run_as([*cmd, *args], self.user, node.log, timeout=self.timeout + 10)

    def _sql(
        self, node: Node, database: str, query: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            # A bounded statement: a probe must never hang on a lost standby or a lock.
            conninfo = node.conninfo(database) + " options='-c statement_timeout=10000'"
            with psycopg.connect(conninfo, autocommit=True) as conn:
                cur = conn.execute(query.encode(), params or None)
                return list(cur.fetchall()) if cur.description else []
        except psycopg.Error as exc:
            raise SiteError(f"PostgreSQL {node.name}: {type(exc).__name__}: {exc}") from exc
