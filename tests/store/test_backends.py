"""Backends: the local folder (atomic, private) and S3 against a real single-node SeaweedFS;
the whole store on S3 and on a PostgreSQL catalog."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from veil.exceptions import StoreError, StoreIntegrityError
from veil.store.backends import PARTIAL, LocalFolderBackend, S3Backend
from veil.store.models import ObjectClass, SlotTaken
from veil.store.store import backend_key

from .conftest import StoreFactory
from .seaweed import SeaweedS3


def test_local_files_are_private_and_written_whole(tmp_path: Path) -> None:
    backend = LocalFolderBackend(tmp_path / "objects")
    backend.put("objects/ab/abc", [b"one ", b"two"])
    path = tmp_path / "objects" / "objects" / "ab" / "abc"
    assert path.read_bytes() == b"one two" and backend.get("objects/ab/abc") == b"one two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "objects").stat().st_mode) == 0o700
    assert [k for k, _ in backend.list()] == ["objects/ab/abc"]


def test_local_write_interrupted_leaves_nothing(tmp_path: Path) -> None:
    backend = LocalFolderBackend(tmp_path)

    def failing() -> Iterator[bytes]:
        yield b"half of it"
        raise OSError(28, "No space left on device")

    with pytest.raises(StoreError, match="cannot write"):
        backend.put("objects/ab/abc", failing())
    assert not backend.exists("objects/ab/abc")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_local_keys_cannot_escape_the_folder(tmp_path: Path) -> None:
    backend = LocalFolderBackend(tmp_path / "objects")
    for key in ("../x", "/etc/passwd", "a//b", "a/./b", "a b", ""):
        with pytest.raises(StoreError, match="invalid object key"):
            backend.put(key, b"x")


def test_local_missing_object(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="missing"):
        LocalFolderBackend(tmp_path).get("objects/ab/none")


def test_reconcile_removes_interrupted_writes(store_with_leftovers: tuple[StoreFactory, Path]) -> None:
    make, home = store_with_leftovers
    store = make()
    assert store.reconcile().orphans_deleted == 0  # younger than the grace period: maybe in flight
    report = store.reconcile(older_than=timedelta(0))
    assert report.orphans_deleted == 2
    files = [p.relative_to(home / "objects").as_posix() for p in (home / "objects").rglob("*") if p.is_file()]
    assert sorted(files) == sorted([backend_key(store.list()[0].object_id), "elsewhere"])


@pytest.fixture
def store_with_leftovers(make_store: StoreFactory, home: Path) -> tuple[StoreFactory, Path]:
    make_store().put(b"kept", klass="redacted", owner="u", recording_id="r", segment=0, policy_version="1")
    (home / "objects" / PARTIAL / "x.tmp").write_bytes(b"half")
    (home / "objects" / "objects" / "ff").mkdir()
    (home / "objects" / "objects" / "ff" / ("f" * 32)).write_bytes(b"no row")
    (home / "objects" / "elsewhere").write_bytes(b"not the store's: left alone")
    return make_store, home


# --- S3 (SeaweedFS) ------------------------------------------------------------------------------


@pytest.fixture
def s3(seaweed: SeaweedS3) -> S3Backend:
    bucket = f"veil-{uuid.uuid4().hex[:10]}"
    return S3Backend(seaweed.endpoint_url, bucket, seaweed.access_key, seaweed.secret_key, create_bucket=True)


def test_s3_backend_round_trip(s3: S3Backend) -> None:
    big = os.urandom(9 << 20)  # above the multipart threshold
    s3.put("objects/ab/big", (big[i : i + (1 << 20)] for i in range(0, len(big), 1 << 20)))
    s3.put("objects/ab/small", b"small")
    assert s3.get("objects/ab/big") == big and s3.get("objects/ab/small") == b"small"
    with s3.reader("objects/ab/big") as read:
        assert read(10) == big[:10]
    assert sorted(k for k, _ in s3.list("objects/")) == ["objects/ab/big", "objects/ab/small"]
    s3.delete("objects/ab/small")
    assert not s3.exists("objects/ab/small") and s3.exists("objects/ab/big")
    with pytest.raises(StoreError, match="no such object"):
        s3.get("objects/ab/small")


def test_s3_wrong_credentials_are_a_clear_error(seaweed: SeaweedS3, s3: S3Backend) -> None:
    wrong = S3Backend(seaweed.endpoint_url, s3.bucket, seaweed.access_key, "not-the-secret")
    with pytest.raises(StoreError, match="credentials") as info:
        wrong.put("objects/ab/x", b"x")
    assert "not-the-secret" not in str(info.value)


def test_s3_unreachable_is_a_store_error_with_a_retry_hint() -> None:
    dead = S3Backend("http://127.0.0.1:9", "b", "k", "s", max_attempts=2, connect_timeout=0.5)
    with pytest.raises(StoreError, match="retry later") as info:
        dead.get("objects/ab/x")
    assert info.value.exit_code == 12


def test_store_on_s3(make_store: StoreFactory, s3: S3Backend) -> None:
    store = make_store(backend=s3)
    data = os.urandom(3 << 20)
    obj = store.put(
        data, klass=ObjectClass.REDACTED, owner="u", recording_id="r", segment=0, policy_version="1"
    )
    assert store.get(obj.object_id, actor="a") == data
    assert [k for k, _ in s3.list()] == [backend_key(obj.object_id)]
    blob = bytearray(s3.get(backend_key(obj.object_id)))
    blob[5000] ^= 1
    s3.put(backend_key(obj.object_id), bytes(blob))
    with pytest.raises(StoreIntegrityError):
        store.get(obj.object_id, actor="a")
    store.delete(obj.object_id, actor="officer", reason="test")
    assert list(s3.list()) == []


# --- PostgreSQL catalog --------------------------------------------------------------------------


@pytest.mark.postgres
def test_store_with_a_postgres_catalog(make_store: StoreFactory, pg_database: str) -> None:
    store = make_store(catalog_url=pg_database)
    obj = store.put(b"pg", klass="raw", owner="u", recording_id="r", segment=0, policy_version="1")
    again = make_store(catalog_url=pg_database)
    assert again.put(b"pg", klass="raw", owner="u", recording_id="r", segment=0, policy_version="1") == obj
    with pytest.raises(SlotTaken):  # other bytes never replace a stored object
        again.put(b"other", klass="raw", owner="u", recording_id="r", segment=0, policy_version="1")
    assert again.list() == [obj]
    [gone] = again.expire(obj.expires_at)
    assert gone.shredded and again.list()[0].shredded
    with pytest.raises(StoreIntegrityError, match="data key destroyed"):
        again.get(obj.object_id, actor="a")
