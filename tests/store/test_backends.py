"""Backends: the local folder (atomic, private) and S3 against a real single-node SeaweedFS;
the whole store on S3 and on a PostgreSQL catalog."""

from __future__ import annotations

import os
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from veil.exceptions import StoreError, StoreIntegrityError
from veil.sites._proc import free_port
from veil.store.backends import PARTIAL, LocalFolderBackend, S3Backend, backend_from_env
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


def _dead_endpoint() -> str:
    """A loopback URL nothing listens on: connections are refused."""
    return f"http://127.0.0.1:{free_port()}"


def test_s3_fails_over_to_the_next_endpoint_and_stays_there(seaweed: SeaweedS3) -> None:
    bucket = f"veil-{uuid.uuid4().hex[:10]}"
    dead = _dead_endpoint()
    s3 = S3Backend(
        [dead, seaweed.endpoint_url], bucket, seaweed.access_key, seaweed.secret_key,
        max_attempts=5, connect_timeout=1, create_bucket=True,
    )  # fmt: skip
    assert s3.current_endpoint == seaweed.endpoint_url  # create_bucket already moved on
    s3b = S3Backend([dead, seaweed.endpoint_url], bucket, seaweed.access_key, seaweed.secret_key)
    big = os.urandom(9 << 20)  # streamed, multipart: the part read for the dead endpoint is replayed
    started = time.monotonic()
    s3b.put("objects/ab/big", (big[i : i + (1 << 20)] for i in range(0, len(big), 1 << 20)))
    assert s3b.current_endpoint == seaweed.endpoint_url
    assert s3b.get("objects/ab/big") == big
    assert [k for k, _ in s3b.list("objects/")] == ["objects/ab/big"]
    assert s3b.exists("objects/ab/big")
    s3b.delete("objects/ab/big")
    assert not s3b.exists("objects/ab/big")
    assert time.monotonic() - started < 30  # no retry rounds on the dead endpoint


def test_s3_no_endpoint_answering_is_a_store_error_with_a_retry_hint() -> None:
    s3 = S3Backend([_dead_endpoint(), _dead_endpoint()], "b", "k", "s", max_attempts=5, connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"no endpoint answered[\s\S]*retry later") as info:
        s3.put("objects/ab/x", [b"a", b"b"])
    assert info.value.exit_code == 12
    assert time.monotonic() - started < 5


def test_s3_an_answering_endpoint_is_never_skipped(seaweed: SeaweedS3) -> None:
    """A refusal (wrong secret) from the first endpoint is the error: no failover past it."""
    s3 = S3Backend([seaweed.endpoint_url, _dead_endpoint()], "b", seaweed.access_key, "not-the-secret")
    with pytest.raises(StoreError, match="credentials") as info:
        s3.get("objects/ab/x")
    assert "not-the-secret" not in str(info.value)


def test_s3_put_needs_every_answering_endpoint_to_show_it(seaweed: SeaweedS3) -> None:
    """An endpoint that answers but does not show the object (its site's metadata is behind) fails
    the put with a retry hint; an endpoint that does not answer is skipped."""
    bucket = f"veil-{uuid.uuid4().hex[:10]}"
    with _not_found_server() as behind:
        s3 = S3Backend(
            [seaweed.endpoint_url, behind], bucket, seaweed.access_key, seaweed.secret_key,
            create_bucket=True, confirm_timeout=0.5,
        )  # fmt: skip
        with pytest.raises(StoreError, match=r"not visible through .* retry later"):
            s3.put("objects/ab/x", b"x")
    lost = S3Backend([seaweed.endpoint_url, _dead_endpoint()], bucket, seaweed.access_key, seaweed.secret_key)
    lost.put("objects/ab/y", b"y")
    assert lost.get("objects/ab/y") == b"y"


@contextmanager
def _not_found_server() -> Iterator[str]:
    """An HTTP server answering 404 to everything (an S3 gateway whose metadata lacks the object)."""

    class NotFound(BaseHTTPRequestHandler):
        def _no(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET = do_PUT = _no

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fallback_endpoints_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VEIL_STORE_S3_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("VEIL_STORE_S3_FALLBACK_ENDPOINTS", " http://127.0.0.1:2 ,http://127.0.0.1:3,")
    for name in ("BUCKET", "ACCESS_KEY", "SECRET_KEY"):
        monkeypatch.setenv(f"VEIL_STORE_S3_{name}", "x")
    with pytest.raises(StoreError, match=r"no endpoint answered: http://127\.0\.0\.1:1 .*:2 .*:3 "):
        backend_from_env(tmp_path)  # creates the bucket: every endpoint tried, none answers
    monkeypatch.delenv("VEIL_STORE_S3_FALLBACK_ENDPOINTS")
    with pytest.raises(StoreError, match=r"at http://127.0.0.1:1\) failed after 5 attempts"):
        backend_from_env(tmp_path)  # one endpoint: as before


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
