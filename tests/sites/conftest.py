"""Two sites on loopback for the tests: a SeaweedFS cluster (a master, volume server, filer and S3
gateway per data center, a tie-breaker master, replication 100) and a PostgreSQL primary with a
synchronous streaming standby.

Module scope: a test that loses a site gets a cluster of its own. Every fixture stops its
processes whatever happens (each wait inside is bounded), and keeps the process logs in the
test's tmp folder for a post-mortem. If a site cannot start, the test FAILS (never skips).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from veil.sites import PgPair, SeaweedCluster, SiteError, make_base_dir


@pytest.fixture(scope="module")
def weed_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedCluster]:
    cluster = SeaweedCluster(tmp_path_factory.mktemp("seaweed"), timeout=60)
    try:
        cluster.start()
    except SiteError as exc:
        pytest.fail(f"SeaweedFS did not start: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def pg_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgPair]:
    base = make_base_dir()  # the server user must enter it: pytest's own tmp folders are private
    logs = tmp_path_factory.mktemp("postgres-logs")
    pair = PgPair(base, synchronous=True, timeout=60)
    try:
        pair.start()
    except SiteError as exc:
        _keep_logs(base, logs)
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL primary/standby did not start: {exc}")
    try:
        yield pair
    finally:
        pair.stop()
        _keep_logs(base, logs)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def make_pg_pair(tmp_path: Path) -> Iterator[Callable[[bool], PgPair]]:
    """Started pairs on demand (synchronous or not), all stopped and removed afterwards."""
    made: list[tuple[PgPair, Path]] = []

    def make(synchronous: bool) -> PgPair:
        base = make_base_dir()
        pair = PgPair(base, synchronous=synchronous, timeout=60)
        made.append((pair, base))
        try:
            return pair.start()
        except SiteError as exc:
            pytest.fail(f"PostgreSQL primary/standby did not start: {exc}")

    try:
        yield make
    finally:
        for pair, base in made:
            pair.stop()
            _keep_logs(base, tmp_path)
            shutil.rmtree(base, ignore_errors=True)


def _keep_logs(base: Path, dest: Path) -> None:
    for log in base.glob("*.log"):
        shutil.copy(log, dest / log.name)
