"""Losing a whole site for real: 50 recordings go into the store (S3 through both sites' gateways
of a two-site SeaweedFS cluster, catalog and ledger on a PostgreSQL primary with a synchronous
standby). After 30 are stored, the first site is lost while writes go on: dc1's S3 gateway, filer,
volume server and master (the Raft leader) are killed and the PostgreSQL primary stopped
(immediate). The masters left elect a leader, the operator promotes the standby, accepts
single-copy writes on dc2, and repoints the store to the new primary; the writer retries every
failed put and goes on through dc2's gateway (veil.sites.drill).

Proved here from the drill's raw facts: every object and ledger entry committed before the loss
reads back bit for bit; every failed put failed with a StoreError/LedgerError that says to retry,
and its retry succeeded; nothing is silently lost (an object-stored entry for every object and an
object for every entry, each once; the ledger verifies against its signed state). The figures are
printed (pytest -s) and quoted in docs/sites.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from veil.sites import PgPair, SeaweedCluster
from veil.sites.drill import DrillOptions, expected_bucket_keys, run_drill, run_return

pytestmark = [pytest.mark.sites, pytest.mark.postgres]


def test_losing_a_site_mid_run_loses_nothing(
    weed_cluster: SeaweedCluster, pg_pair: PgPair, tmp_path: Path
) -> None:
    assert pg_pair.synchronous
    report = run_drill(weed_cluster, pg_pair, tmp_path, DrillOptions(recordings=50, loss_after=30))
    print("\nsite-loss drill: " + "; ".join(report.lines()))
    assert report.unexpected is None, report.unexpected

    # The whole of dc1 went, the Raft leader with it; the writer went on through dc2's gateway.
    assert report.processes_lost == ["s3-dc1", "filer-dc1", "volume-dc1", "master-dc1"]
    assert report.leader_before == "dc1" and report.leader_after in ("dc2", "tb")
    assert report.endpoint_after == weed_cluster.s3.urls[1]
    # The loss hit a running writer, and every put eventually came back stored.
    assert len(report.acked_before_loss) >= 30
    assert len(report.acked_before_loss) < 50, "the loss came after the last write: nothing tested"
    assert sorted(report.acked) == list(range(50))
    # Failures are the store's own errors, each telling the caller to retry (the retry succeeded).
    assert report.failures, "no put failed: the loss did not hit a write in flight"
    for _, kind, message in report.failures:
        assert kind in ("StoreError", "LedgerError"), (kind, message)
        assert "retry" in message.lower() or kind == "LedgerError", message

    # Before the loss every volume had a copy on each site (replication 100, read from /dir/status).
    assert report.layout_before
    assert all(sites == {"dc1", "dc2"} for sites in report.layout_before.values()), report.layout_before
    # Everything committed before the loss is on the promoted standby, bit for bit.
    assert report.entries_before and report.rows_before
    for seq, body in report.entries_before.items():
        assert report.entries_after.get(seq) == body, f"ledger entry {seq} lost or changed"
    for object_id, row in report.rows_before.items():
        assert report.rows_after.get(object_id) == row, f"catalog row {object_id} lost or changed"
    # Every acknowledged recording reads back bit for bit (the older ones from dc2's copy).
    assert report.read_errors == []
    assert report.lost == [] and report.unreadable == []
    assert all(report.read_back[i] for i in range(50))

    # Nothing silently lost, nothing twice: objects == catalog == object-stored entries.
    acked_ids = set(report.acked.values())
    assert report.catalog_ids == acked_ids
    assert sorted(report.stored_entry_ids) == sorted(acked_ids), "an object without its entry, or twice"
    assert report.bucket_keys == expected_bucket_keys(acked_ids), "an object in S3 without its row"
    assert report.ledger_ok, report.ledger_reason
    assert report.recovery_s < 60

    # Second round: dc1 returns and is re-protected (objects copied to it, a new synchronous
    # standby built there), more recordings are stored, then the *other* site is lost.
    again = run_return(weed_cluster, pg_pair, tmp_path, report, more=10)
    print("return and second loss: " + "; ".join(again.lines()))
    assert again.processes_lost == ["s3-dc2", "filer-dc2", "volume-dc2", "master-dc2"]
    assert again.leader_before == "dc2" and again.leader_after in ("dc1", "tb")
    assert _both(again.layout_before), again.layout_before  # two copies again before the loss
    assert sorted(again.acked) == list(range(60))
    assert again.read_errors == [] and all(again.read_back[i] for i in range(60))
    assert again.catalog_ids == set(again.acked.values())
    assert sorted(again.stored_entry_ids) == sorted(again.acked.values())
    assert again.ledger_ok, again.ledger_reason


def _both(layout: dict[int, set[str]]) -> bool:
    return bool(layout) and all(sites >= {"dc1", "dc2"} for sites in layout.values())
