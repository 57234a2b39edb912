"""A site-loss drill on the two-site layout: store recordings, lose the first site while writes go
on, fail over, and report what survived (`python -m veil.sites drill`, tests/sites, bench/sites).

    report = run_drill(cluster, pg, work_dir)         # both started, nothing written yet
    report.lost, report.recovery_s, report.failures
    again = run_return(cluster, pg, work_dir, report) # dc1 back, re-protected, then dc2 lost

The writer is an application that retries every failed put (a put is idempotent per slot); its
store talks to both sites' S3 gateways (dc1's first) and moves to dc2's when dc1's does not answer.
Before writing, the drill moves the masters' Raft leadership to dc1 (the worst case). After
`loss_after` acknowledged puts it loses the whole of dc1: its S3 gateway, filer, volume server and
master are killed (SIGKILL) and the PostgreSQL primary stopped (immediate). Then it promotes the
standby, waits for the remaining masters to elect a leader, accepts single-copy writes on dc2
(`SeaweedCluster.degrade`) and repoints the application to the new primary. The report holds raw
facts (which ids where), so a test can check them itself: nothing is judged here.

`run_return` goes on from there: dc1 comes back and everything is protected on two sites again
(its processes restarted on their old folders, the single-copy volumes copied to it, a new
synchronous standby built there from the promoted node), more recordings are stored, and then the
*other* site, dc2, is lost the same way (its master made Raft leader first, the promoted primary
stopped, the new standby promoted). Every recording of both rounds must read back through dc1.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from veil.audit import Ledger
from veil.exceptions import LedgerError, StoreError
from veil.sites.postgres import Node, PgPair
from veil.sites.seaweed import SeaweedCluster
from veil.store.backends import Backend, S3Backend
from veil.store.kek import FileKek
from veil.store.ledgerio import ledger_events
from veil.store.models import ObjectClass
from veil.store.store import OBJECTS, RecordingStore, backend_key

BUCKET = "veil-recordings"
RETRY_PAUSE_S = 0.2
SETTLE_S = 30.0
# The bucket must match the catalog this many checks in a row, a second apart: a late put can
# land just after a first match (seen once in CI under load).
SETTLE_MATCHES = 4


@dataclass(frozen=True)
class DrillOptions:
    recordings: int = 50
    loss_after: int = 30
    deadline_s: float = 120.0
    seed: int = 16
    min_size: int = 20_000
    max_size: int = 200_000


@dataclass
class DrillReport:
    synchronous: bool
    recordings: int
    acked_before_loss: list[int] = field(default_factory=list)
    acked: dict[int, str] = field(default_factory=dict)  # recording -> object id
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # (recording, type, message)
    unexpected: str | None = None  # anything but StoreError/LedgerError, or the deadline
    entries_before: dict[int, bytes] = field(default_factory=dict)  # ledger seq -> body at the loss
    rows_before: dict[str, tuple[str, int]] = field(default_factory=dict)  # object -> (sha256, size)
    layout_before: dict[int, set[str]] = field(default_factory=dict)  # volume -> sites with a copy
    entries_after: dict[int, bytes] = field(default_factory=dict)
    rows_after: dict[str, tuple[str, int]] = field(default_factory=dict)
    read_back: dict[int, bool] = field(default_factory=dict)  # acked recording -> same bytes
    read_errors: list[str] = field(default_factory=list)
    catalog_ids: set[str] = field(default_factory=set)
    stored_entry_ids: list[str] = field(default_factory=list)  # object-stored entries, dups kept
    bucket_keys: set[str] = field(default_factory=set)
    ledger_ok: bool = False
    ledger_reason: str = ""
    orphans_deleted: int = 0
    late_orphans: int = 0  # orphans that appeared after the first reconcile (gateway finished late)
    entries_appended: int = 0
    standby_writable_s: float = float("nan")
    recovery_s: float = float("nan")  # loss -> first acknowledged put after it
    new_write_s: float = float("nan")  # loss -> first put acknowledged that began after the loss
    processes_lost: list[str] = field(default_factory=list)  # SeaweedFS processes killed
    leader_before: str | None = None  # the site whose master led the Raft group at the loss
    leader_after: str | None = None
    leader_elected_s: float = float("nan")  # loss -> a surviving master leads
    endpoints: tuple[str, ...] = ()  # the S3 gateways the writer's store knows, dc1's first
    endpoint_after: str = ""  # the S3 gateway the writer used at the end

    @property
    def lost(self) -> list[int]:
        """Acknowledged recordings whose catalog row is gone from the promoted primary."""
        return sorted(i for i, object_id in self.acked.items() if object_id not in self.rows_after)

    @property
    def unreadable(self) -> list[int]:
        """Acknowledged recordings still catalogued that do not read back bit for bit."""
        lost = set(self.lost)
        return sorted(i for i in self.acked if i not in lost and not self.read_back.get(i, False))

    def lines(self) -> list[str]:
        mode = "synchronous" if self.synchronous else "asynchronous"
        kinds = sorted({k for _, k, _ in self.failures})
        changed = sum(1 for s, b in self.entries_before.items() if self.entries_after.get(s) != b)
        return [
            f"replication: {mode}",
            f"recordings acknowledged: {len(self.acked)} of {self.recordings} "
            f"({len(self.acked_before_loss)} before the loss)",
            f"acknowledged recordings lost: {len(self.lost)}, unreadable: {len(self.unreadable)}",
            f"ledger entries before the loss: {len(self.entries_before)}, lost or changed: {changed}",
            f"failed puts (retried): {len(self.failures)} {kinds}",
            f"lost: {', '.join(self.processes_lost)} and the PostgreSQL primary",
            f"Raft leader: {self.leader_before} -> {self.leader_after} "
            f"(elected after {self.leader_elected_s:.2f} s)",
            f"standby writable after: {self.standby_writable_s:.2f} s",
            f"first acknowledged write after the loss: {self.recovery_s:.2f} s "
            f"(first write begun after it: {self.new_write_s:.2f} s)",
            f"ledger verifies: {self.ledger_ok}{'' if self.ledger_ok else ' (' + self.ledger_reason + ')'}",
            f"orphan objects removed by reconcile: {self.orphans_deleted} ({self.late_orphans} late)",
            *([f"unexpected: {self.unexpected}"] if self.unexpected else []),
        ]


class _App:
    """The application side: one store + ledger on the URL the operator points it at."""

    def __init__(self, backend: Backend, kek: FileKek, key_dir: Path) -> None:
        self.backend, self.kek, self.key_dir = backend, kek, key_dir

    def open(self, url: str) -> tuple[RecordingStore, Ledger]:
        ledger = Ledger.open(url, self.key_dir)
        try:
            store = RecordingStore.open(catalog_url=url, backend=self.backend, kek=self.kek, ledger=ledger)
        except BaseException:
            ledger.close()
            raise
        return store, ledger


def run_drill(
    cluster: SeaweedCluster, pg: PgPair, work_dir: Path, options: DrillOptions | None = None
) -> DrillReport:
    opts = options or DrillOptions()
    s3 = cluster.s3
    backend = S3Backend(
        s3.urls or (s3.url,), BUCKET, s3.access_key, s3.secret_key, s3.region,
        max_attempts=2, connect_timeout=2, read_timeout=4, create_bucket=True,
    )  # fmt: skip
    cluster.make_leader("dc1")  # the worst case: the site lost holds the Raft leader
    app = _App(backend, FileKek(work_dir), work_dir / "ledger-keys")  # keys kept on both sites
    data = _recordings(opts, opts.recordings)
    report = DrillReport(pg.synchronous, opts.recordings, endpoints=backend.endpoints)
    target = [pg.url]  # where the operator points the application
    acked_at: dict[int, float] = {}
    loss_point = threading.Event()
    writer = threading.Thread(
        target=_write_all, args=(app, target, data, report, acked_at, loss_point, opts), daemon=True
    )
    writer.start()
    loss_point.wait(opts.deadline_s)
    report.entries_before, report.rows_before = _snapshot(pg.primary)
    report.layout_before = cluster.layout()
    report.leader_before = cluster.leader()
    loss_at = time.monotonic()
    report.processes_lost = cluster.stop_site("dc1")
    pg.stop_primary()
    report.acked_before_loss = sorted(report.acked.copy())  # copy: atomic while the writer runs
    pg.promote()
    report.standby_writable_s = time.monotonic() - loss_at
    target[0] = pg.url
    report.leader_after = cluster.wait_leader()
    report.leader_elected_s = time.monotonic() - loss_at
    cluster.degrade(BUCKET, surviving="dc2")
    writer.join(opts.deadline_s + 30)
    if writer.is_alive():
        report.unexpected = report.unexpected or "the writer is stuck past its deadline"
    report.endpoint_after = backend.current_endpoint
    after = [t for i, t in acked_at.items() if i not in report.acked_before_loss]
    report.recovery_s = min(after) - loss_at if after else float("nan")
    # The writer is sequential: the recording after the one in flight at the loss began after it.
    begun_after = len(report.acked_before_loss) + 1
    if begun_after in acked_at:
        report.new_write_s = acked_at[begun_after] - loss_at
    _check(app, pg, data, report)
    return report


def _recordings(opts: DrillOptions, count: int) -> dict[int, bytes]:
    rng = random.Random(opts.seed)
    return {i: rng.randbytes(rng.randrange(opts.min_size, opts.max_size)) for i in range(count)}


@dataclass
class ReturnReport:
    """The second round: the lost site back, re-protected, then the other site lost."""

    reprotect_s: float = float("nan")  # dc1 restarted -> both sites hold every object and commit
    objects_reprotect_s: float = float("nan")  # of which: every volume has a copy on both sites
    database_reprotect_s: float = float("nan")  # of which: a new synchronous standby streams
    layout_before: dict[int, set[str]] = field(default_factory=dict)  # at the second loss
    acked: dict[int, str] = field(default_factory=dict)  # every recording of both rounds
    processes_lost: list[str] = field(default_factory=list)
    leader_before: str | None = None
    leader_after: str | None = None
    read_back: dict[int, bool] = field(default_factory=dict)
    read_errors: list[str] = field(default_factory=list)
    catalog_ids: set[str] = field(default_factory=set)
    stored_entry_ids: list[str] = field(default_factory=list)
    ledger_ok: bool = False
    ledger_reason: str = ""

    def lines(self) -> list[str]:
        lost = sum(1 for i in self.acked if not self.read_back.get(i, False))
        return [
            f"re-protected after dc1's return: {self.reprotect_s:.1f} s "
            f"(objects {self.objects_reprotect_s:.1f} s, database {self.database_reprotect_s:.1f} s)",
            f"then lost: {', '.join(self.processes_lost)} and the promoted primary "
            f"(Raft leader {self.leader_before} -> {self.leader_after})",
            f"recordings of both rounds read back through dc1: {len(self.acked) - lost} of {len(self.acked)}",
            f"ledger verifies: {self.ledger_ok}{'' if self.ledger_ok else ' (' + self.ledger_reason + ')'}",
        ]


def run_return(
    cluster: SeaweedCluster,
    pg: PgPair,
    work_dir: Path,
    first: DrillReport,
    options: DrillOptions | None = None,
    more: int = 10,
) -> ReturnReport:
    """After `run_drill`: dc1 returns and is re-protected, `more` recordings are stored with two
    copies again, then dc2 and the promoted primary are lost; reads go through dc1 alone."""
    opts = options or DrillOptions()
    s3 = cluster.s3
    backend = S3Backend(
        s3.urls or (s3.url,), BUCKET, s3.access_key, s3.secret_key, s3.region,
        max_attempts=2, connect_timeout=2, read_timeout=4,
    )  # fmt: skip
    app = _App(backend, FileKek(work_dir), work_dir / "ledger-keys")
    report = ReturnReport(acked=dict(first.acked))
    started = time.monotonic()
    cluster.start_site("dc1")
    cluster.restore(BUCKET)
    deadline = started + opts.deadline_s
    while not _on_both_sites(cluster.layout()) and time.monotonic() < deadline:
        time.sleep(0.5)
    report.objects_reprotect_s = time.monotonic() - started
    report.database_reprotect_s = pg.reprotect()
    report.reprotect_s = time.monotonic() - started
    data = _recordings(opts, first.recordings + more)
    store, ledger = app.open(pg.url)
    try:
        for i in range(first.recordings, first.recordings + more):
            obj = store.put(
                data[i], klass=ObjectClass.REDACTED, owner="employee-7",
                recording_id=f"rec-{i:03d}", segment=0, policy_version="1",
            )  # fmt: skip
            report.acked[i] = obj.object_id
    finally:
        _close((store, ledger))
    report.layout_before = cluster.layout()
    cluster.make_leader("dc2")
    report.leader_before = cluster.leader()
    report.processes_lost = cluster.stop_site("dc2")
    pg.stop_primary()
    pg.promote()
    report.leader_after = cluster.wait_leader()
    store, ledger = app.open(pg.url)
    try:
        _read_all(store, report.acked, data, report.read_back, report.read_errors)
        report.catalog_ids = {o.object_id for o in store.list()}
        report.stored_entry_ids = [str(e["object_id"]) for e in ledger_events(ledger, kind="object-stored")]
        verdict = ledger.verify()
        report.ledger_ok, report.ledger_reason = verdict.ok, str(verdict.reason or "")
    finally:
        _close((store, ledger))
    return report


def _read_all(
    store: RecordingStore,
    acked: dict[int, str],
    data: dict[int, bytes],
    same: dict[int, bool],
    errors: list[str],
) -> None:
    """Read every acknowledged recording back: `same[i]` says whether it came back bit for bit."""
    for i, object_id in acked.items():
        try:
            got = store.get(object_id, actor="auditor-1")
        except (StoreError, LedgerError) as exc:
            errors.append(f"recording {i}: {type(exc).__name__}: {exc}")
            same[i] = False
            continue
        same[i] = hashlib.sha256(got).digest() == hashlib.sha256(data[i]).digest()


def _on_both_sites(layout: dict[int, set[str]]) -> bool:
    return bool(layout) and all(sites >= {"dc1", "dc2"} for sites in layout.values())


def _write_all(
    app: _App,
    target: list[str],
    data: dict[int, bytes],
    report: DrillReport,
    acked_at: dict[int, float],
    loss_point: threading.Event,
    opts: DrillOptions,
) -> None:
    deadline = time.monotonic() + opts.deadline_s
    current: tuple[RecordingStore, Ledger] | None = None
    used = ""
    try:
        for i in range(opts.recordings):
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"recording {i} not stored within {opts.deadline_s:.0f} s")
                try:
                    if current is None or used != target[0]:  # repointed by the operator
                        if current is not None:
                            _close(current)
                            current = None
                        used = target[0]
                        current = app.open(used)
                    obj = current[0].put(
                        data[i], klass=ObjectClass.REDACTED, owner="employee-7",
                        recording_id=f"rec-{i:03d}", segment=0, policy_version="1",
                    )  # fmt: skip
                except (StoreError, LedgerError) as exc:
                    report.failures.append((i, type(exc).__name__, str(exc)))
                    time.sleep(RETRY_PAUSE_S)
                    continue
                report.acked[i], acked_at[i] = obj.object_id, time.monotonic()
                if i + 1 == opts.loss_after:
                    loss_point.set()
                break
    except Exception as exc:  # noqa: BLE001 - the report carries it; the drill goes on to check
        report.unexpected = f"{type(exc).__name__}: {exc}"
    finally:
        loss_point.set()
        if current is not None:
            _close(current)


def _check(app: _App, pg: PgPair, data: dict[int, bytes], report: DrillReport) -> None:
    """What the promoted primary and the surviving site hold, read by a fresh application."""
    report.entries_after, report.rows_after = _snapshot(pg.active)
    store, ledger = app.open(pg.url)
    try:
        _settle(app.backend, store, report)
        _read_all(store, report.acked, data, report.read_back, report.read_errors)
        report.catalog_ids = {o.object_id for o in store.list()}
        report.stored_entry_ids = [str(e["object_id"]) for e in ledger_events(ledger, kind="object-stored")]
        report.bucket_keys = {k for k, _ in app.backend.list(f"{OBJECTS}/")}
        verdict = ledger.verify()
        report.ledger_ok, report.ledger_reason = verdict.ok, str(verdict.reason or "")
    finally:
        _close((store, ledger))


def _settle(backend: Backend, store: RecordingStore, report: DrillReport) -> None:
    """Reconcile until the bucket holds exactly the catalogued objects, `SETTLE_MATCHES` checks in
    a row (bounded by `SETTLE_S`). The writer has stopped, but a put it gave up on (read timeout
    while the gateway waited for a volume) can still complete at the gateway afterwards: a later
    reconcile removes that orphan too."""
    deadline = time.monotonic() + SETTLE_S
    rounds = matches = 0
    while True:
        try:
            rec = store.reconcile(older_than=timedelta(0))  # no put of ours runs any more
        except (StoreError, LedgerError) as exc:
            report.read_errors.append(f"reconcile: {type(exc).__name__}: {exc}")
            return
        report.orphans_deleted += rec.orphans_deleted
        report.entries_appended += rec.ledger_entries_appended
        if rounds and rec.orphans_deleted:
            report.late_orphans += rec.orphans_deleted
        rounds += 1
        catalogued = expected_bucket_keys({o.object_id for o in store.list()})
        matches = matches + 1 if {k for k, _ in backend.list(f"{OBJECTS}/")} == catalogued else 0
        if matches >= SETTLE_MATCHES or time.monotonic() > deadline:
            return
        time.sleep(1.0)


def expected_bucket_keys(object_ids: set[str]) -> set[str]:
    """The backend keys the store uses for these objects."""
    return {backend_key(o) for o in object_ids}


def _close(pair: tuple[RecordingStore, Ledger]) -> None:
    pair[0].close()
    pair[1].close()


def _snapshot(node: Node) -> tuple[dict[int, bytes], dict[str, tuple[str, int]]]:
    """Ledger entries (seq -> body) and catalog objects (id -> sha256, size) that `node` holds."""
    import psycopg

    with psycopg.connect(node.conninfo()) as conn:
        entries = {int(s): bytes(b) for s, b in conn.execute("SELECT seq, body FROM veil_ledger_entries")}
        rows = conn.execute("SELECT object_id, sha256, size FROM veil_store_objects")
        objects = {str(o): (str(h), int(n)) for o, h, n in rows}
    return entries, objects


@dataclass
class PartitionReport:
    """The standby was cut off, writes went on for a while, then the primary's site was lost."""

    synchronous: bool
    acked_before_cut: list[int] = field(default_factory=list)
    acked_while_cut: list[int] = field(default_factory=list)
    present_after: set[str] = field(default_factory=set)  # object ids on the promoted standby
    acked: dict[int, str] = field(default_factory=dict)
    ledger_ok: bool = False
    ledger_reason: str = ""

    @property
    def lost(self) -> list[int]:
        return sorted(i for i, object_id in self.acked.items() if object_id not in self.present_after)


def run_partition(
    pg: PgPair, backend: Backend, work_dir: Path, *, before: int = 10, during: int = 10, wait_s: float = 5.0
) -> PartitionReport:
    """Store `before` recordings, cut the standby off (stop it), try `during` more for `wait_s`
    seconds, lose the primary, start and promote the standby: which acknowledged recordings are
    gone, and does the ledger notice? Synchronous: commits wait for the standby, so none is
    acknowledged while it is cut off (writes stall). Asynchronous: the primary acknowledges alone."""
    app = _App(backend, FileKek(work_dir), work_dir / "ledger-keys")
    report = PartitionReport(pg.synchronous)

    def write(first: int, count: int, into: list[int]) -> None:
        store, ledger = app.open(pg.url)
        try:
            for i in range(first, first + count):
                obj = store.put(
                    b"segment %d" % i, klass=ObjectClass.REDACTED, owner="employee-7",
                    recording_id=f"rec-{i:03d}", segment=0, policy_version="1",
                )  # fmt: skip
                report.acked[i] = obj.object_id
                into.append(i)
        finally:
            _close((store, ledger))

    def while_cut() -> None:
        with contextlib.suppress(StoreError, LedgerError):  # cut short by the loss: not acknowledged
            write(before, during, report.acked_while_cut)

    write(0, before, report.acked_before_cut)
    pg.stop_standby()
    writer = threading.Thread(target=while_cut, daemon=True)
    writer.start()
    writer.join(wait_s)
    pg.stop_primary()
    writer.join(30)
    pg.start_standby()
    pg.promote()
    store, ledger = app.open(pg.url)
    try:
        report.present_after = {o.object_id for o in store.list()}
        verdict = ledger.verify()
        report.ledger_ok, report.ledger_reason = verdict.ok, str(verdict.reason or "")
    finally:
        _close((store, ledger))
    return report
