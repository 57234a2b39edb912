"""Where ciphertext objects live: a local folder (the embedded default) or any S3 API.

A backend only ever sees ciphertext. Keys are relative slash-separated names
(`objects/ab/ab12...`). Writes are whole-or-nothing: the local folder writes a temp file, fsyncs
it and renames it into place; S3 makes an object visible only when its (multipart) upload
completes.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

from veil.exceptions import StoreError
from veil.store.crypto import Read

_PART = re.compile(r"[A-Za-z0-9._-]+")
PARTIAL = ".partial"
RETRY_HINT = "retry later; the put is idempotent, so re-running it is safe"


@runtime_checkable
class Backend(Protocol):
    def put(self, key: str, data: bytes | Iterable[bytes]) -> None: ...

    def get(self, key: str) -> bytes: ...

    def reader(self, key: str) -> AbstractContextManager[Read]: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """(key, last modified in UTC) of every stored object whose key starts with `prefix`,
        including leftovers of interrupted writes (the store's reconcile removes those)."""
        ...


def _chunks(data: bytes | Iterable[bytes]) -> Iterable[bytes]:
    return (bytes(data),) if isinstance(data, bytes | bytearray | memoryview) else data


def check_key(key: str) -> str:
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") or not _PART.fullmatch(p) for p in parts):
        raise StoreError(f"invalid object key {key!r}: use letters, digits, '.', '_', '-' and '/'")
    return key


class LocalFolderBackend:
    """Objects as files under `root` (0700 folders, 0600 files), written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._mkdir(root)

    def _mkdir(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(f"cannot create the store folder {folder}: {exc.strerror}") from exc

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes | Iterable[bytes]) -> None:
        final = self._path(key)
        self._mkdir(final.parent)
        self._mkdir(self.root / PARTIAL)
        tmp = self.root / PARTIAL / f"{final.name}.{uuid.uuid4().hex}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                for chunk in _chunks(data):
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write object {key} under {self.root}: {exc.strerror}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        with self.reader(key) as read:
            return read(-1)

    @contextmanager
    def reader(self, key: str) -> Iterator[Read]:
        try:
            fh = self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StoreError(f"object {key} is missing from the store folder {self.root}") from exc
        except OSError as exc:
            raise StoreError(f"cannot read object {key}: {exc.strerror}") from exc
        with fh:
            yield fh.read

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot delete object {key}: {exc.strerror}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    try:
                        mtime = path.stat().st_mtime
                    except FileNotFoundError:
                        continue
                    yield key, datetime.fromtimestamp(mtime, UTC)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _IterStream(io.RawIOBase):
    """A readable file over an iterable of byte strings (what boto3's upload_fileobj reads)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it = iter(chunks)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            nxt = next(self._it, None)
            if nxt is None:
                return 0
            self._buf = bytes(nxt)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


class S3Backend:
    """Objects in one bucket of any S3 API (AWS, SeaweedFS, MinIO, Ceph). Retries (standard mode,
    `max_attempts`) and timeouts are configured; every failure becomes a StoreError naming the
    operation, the endpoint and the S3 error code, with a retry hint. Credentials never appear in
    messages."""

    def __init__(
        self,
        endpoint_url: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        *,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        create_bucket: bool = False,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.endpoint_url, self.bucket = endpoint_url, bucket
        self._attempts = max_attempts
        config = Config(
            region_name=region,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            s3={"addressing_style": "path"},
            signature_version="s3v4",
        )
        self._s3: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )
        self._transfer = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20)
        if create_bucket:
            self.ensure_bucket()

    @contextmanager
    def _errors(self, op: str, key: str = "") -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        what = f"S3 {op}{' of ' + key if key else ''} (bucket {self.bucket} at {self.endpoint_url})"
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "unknown"))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise StoreError(f"{what}: no such object") from exc
            if code == "NoSuchBucket":
                raise StoreError(f"{what}: the bucket does not exist; create it first") from exc
            if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise StoreError(f"{what}: refused ({code}); check the store's S3 credentials") from exc
            raise StoreError(f"{what} failed ({code}); {RETRY_HINT}") from exc
        except BotoCoreError as exc:
            raise StoreError(
                f"{what} failed after {self._attempts} attempts ({type(exc).__name__}): the object "
                f"store is unreachable or too slow; {RETRY_HINT}"
            ) from exc

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        with self._errors("create-bucket"):
            try:
                self._s3.head_bucket(Bucket=self.bucket)
            except ClientError:
                self._s3.create_bucket(Bucket=self.bucket)

    def put(self, key: str, data: bytes | Iterable[bytes]) -> None:
        with self._errors("put", check_key(key)):
            self._s3.upload_fileobj(
                io.BufferedReader(_IterStream(_chunks(data)), 1 << 20),
                self.bucket,
                key,
                Config=self._transfer,
            )

    def get(self, key: str) -> bytes:
        with self.reader(key) as read:
            return read(-1)

    @contextmanager
    def reader(self, key: str) -> Iterator[Read]:
        with self._errors("get", check_key(key)):
            body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]

        def read(n: int) -> bytes:
            with self._errors("get", key):
                return cast(bytes, body.read() if n < 0 else body.read(n))

        try:
            yield read
        finally:
            body.close()

    def delete(self, key: str) -> None:
        with self._errors("delete", check_key(key)):
            self._s3.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        with self._errors("head", check_key(key)):
            try:
                self._s3.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
        return True

    def list(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        with self._errors("list"):
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield str(item["Key"]), cast(datetime, item["LastModified"]).astimezone(UTC)


def backend_from_env(default_root: Path) -> Backend:
    """S3 when VEIL_STORE_S3_ENDPOINT is set (with VEIL_STORE_S3_BUCKET, VEIL_STORE_S3_ACCESS_KEY,
    VEIL_STORE_S3_SECRET_KEY, optional VEIL_STORE_S3_REGION), else the local folder `default_root`."""
    endpoint = os.environ.get("VEIL_STORE_S3_ENDPOINT")
    if not endpoint:
        return LocalFolderBackend(default_root)
    names = ("VEIL_STORE_S3_BUCKET", "VEIL_STORE_S3_ACCESS_KEY", "VEIL_STORE_S3_SECRET_KEY")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise StoreError(f"VEIL_STORE_S3_ENDPOINT is set but {', '.join(missing)} is not")
    bucket, access, secret = (os.environ[n] for n in names)
    region = os.environ.get("VEIL_STORE_S3_REGION", "us-east-1")
    return S3Backend(endpoint, bucket, access, secret, region, create_bucket=True)
