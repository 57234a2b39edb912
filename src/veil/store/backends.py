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
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from veil.exceptions import StoreError
from veil.store.crypto import Read

_PART = re.compile(r"[A-Za-z0-9._-]+")
PARTIAL = ".partial"
RETRY_HINT = "retry later; the put is idempotent, so re-running it is safe"
T = TypeVar("T")


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


class _Spool:
    """The chunks of one put, kept as they are read (in memory up to 8 MiB, then in a private
    temporary file: ciphertext only) so that the put can be sent again to the next endpoint."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it = iter(chunks)
        self._file = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - closed in close()

    def stream(self) -> Iterator[bytes]:
        """Everything read so far, then the rest of the input (kept as well)."""
        self._file.seek(0)
        while block := self._file.read(1 << 20):
            yield block
        for chunk in self._it:
            self._file.seek(0, io.SEEK_END)
            self._file.write(chunk)
            yield chunk

    def close(self) -> None:
        self._file.close()


class S3Backend:
    """Objects in one bucket of any S3 API (AWS, SeaweedFS, MinIO, Ceph). Retries (standard mode,
    `max_attempts`) and timeouts are configured; every failure becomes a StoreError naming the
    operation, the endpoint and the S3 error code, with a retry hint. Credentials never appear in
    messages.

    `endpoint_url` may be a list: the gateways of one cluster, e.g. one per site. Calls go to the
    current endpoint; when it does not answer (connection refused, connect or read timeout,
    connection dropped) the call moves on to the next one at once (no retry on the dead one) and
    that one stays current; after `failback_after` seconds the first endpoint is tried first again.
    An endpoint that answers with an error is never skipped: its error is the call's error. When no
    endpoint answers the call raises StoreError (retry later). With several endpoints a put is
    acknowledged only once every other endpoint that answers shows the object (HEAD, within
    `confirm_timeout`): gateways on different sites may each keep their own copy of the metadata,
    synchronised asynchronously, and an acknowledged object must survive the loss of the site it
    was written through. An endpoint that does not answer cannot confirm and is skipped (its site
    is lost, or cut off: then the object store itself refuses two-copy writes)."""

    def __init__(
        self,
        endpoint_url: str | Sequence[str],
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        *,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        create_bucket: bool = False,
        confirm_timeout: float = 5.0,
        failback_after: float = 60.0,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        urls = (endpoint_url,) if isinstance(endpoint_url, str) else tuple(endpoint_url)
        if not urls or not all(urls):
            raise StoreError("S3Backend needs at least one endpoint URL")
        self.endpoints = urls
        self.endpoint_url, self.bucket = urls[0], bucket
        self._attempts = max_attempts
        self._confirm_timeout, self._failback_after = confirm_timeout, failback_after
        self._current, self._moved_at = 0, 0.0
        self._lock = threading.Lock()
        config = Config(
            region_name=region,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            s3={"addressing_style": "path"},
            signature_version="s3v4",
        )
        self._clients: list[Any] = []
        for url in urls:
            client = boto3.client(
                "s3",
                endpoint_url=url,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                config=config,
            )
            if len(urls) > 1:  # a dead endpoint is left at once for the next, not retried
                client.meta.events.register_first("needs-retry.s3", _no_retry_without_answer)
            self._clients.append(client)
        self._s3: Any = self._clients[0]
        self._transfer = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20)
        if create_bucket:
            self.ensure_bucket()

    @contextmanager
    def _errors(self, op: str, key: str = "", endpoint: str | None = None) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        where = endpoint or self.endpoint_url
        what = f"S3 {op}{' of ' + key if key else ''} (bucket {self.bucket} at {where})"
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

    # --- failover ------------------------------------------------------------------------------

    @property
    def current_endpoint(self) -> str:
        """The endpoint the next call goes to first."""
        return self.endpoints[self._order()[0]]

    def _order(self) -> list[int]:
        """Endpoint indexes to try, the current one first (the first one again after a while)."""
        with self._lock:
            if self._current and time.monotonic() - self._moved_at > self._failback_after:
                self._current = 0
            first = self._current
        n = len(self._clients)
        return [(first + i) % n for i in range(n)]

    def _moved(self, index: int) -> None:
        with self._lock:
            if self._current != index:
                self._current, self._moved_at = index, time.monotonic()

    def _call(self, op: str, key: str, fn: Callable[[Any], T]) -> T:
        """fn(client) on the current endpoint, on the next ones while an endpoint does not answer."""
        if len(self._clients) == 1:
            with self._errors(op, key):
                return fn(self._clients[0])
        silent: list[str] = []
        for index in self._order():
            url = self.endpoints[index]
            try:
                with self._errors(op, key, url):
                    result = fn(self._clients[index])
            except StoreError as exc:
                if not _no_answer(exc.__cause__):
                    raise
                silent.append(f"{url} ({type(exc.__cause__).__name__})")
                continue
            self._moved(index)
            return result
        raise StoreError(
            f"S3 {op}{' of ' + key if key else ''} (bucket {self.bucket}): no endpoint answered: "
            f"{', '.join(silent)}; {RETRY_HINT}"
        )

    def _confirm(self, key: str, written_through: str) -> None:
        """The object must be visible through every other endpoint that answers."""
        from botocore.exceptions import ClientError

        for index, url in enumerate(self.endpoints):
            if url == written_through:
                continue
            deadline = time.monotonic() + self._confirm_timeout
            while True:
                try:
                    with self._errors("confirm", key, url):
                        try:
                            self._clients[index].head_object(Bucket=self.bucket, Key=key)
                            break
                        except ClientError as exc:
                            code = str(exc.response.get("Error", {}).get("Code"))
                            if code not in ("404", "NoSuchKey", "NotFound"):
                                raise
                except StoreError as exc:
                    if _no_answer(exc.__cause__):
                        break  # that site is lost or cut off: it cannot confirm
                    raise
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"S3 put of {key} (bucket {self.bucket}) through {written_through} is not "
                        f"visible through {url} after {self._confirm_timeout:.0f} s; {RETRY_HINT}"
                    )
                time.sleep(0.02)

    # --- operations ----------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        def ensure(s3: Any) -> None:
            try:
                s3.head_bucket(Bucket=self.bucket)
            except ClientError:
                s3.create_bucket(Bucket=self.bucket)

        self._call("create-bucket", "", ensure)

    def put(self, key: str, data: bytes | Iterable[bytes]) -> None:
        check_key(key)
        if len(self._clients) == 1:
            with self._errors("put", key):
                self._upload(self._clients[0], key, _chunks(data))
            return
        spool = _Spool(_chunks(data))
        used: list[str] = []
        try:

            def upload(s3: Any) -> None:
                self._upload(s3, key, spool.stream())
                used.append(str(s3.meta.endpoint_url))

            self._call("put", key, upload)
        finally:
            spool.close()
        self._confirm(key, used[-1])

    def _upload(self, s3: Any, key: str, chunks: Iterable[bytes]) -> None:
        s3.upload_fileobj(
            io.BufferedReader(_IterStream(chunks), 1 << 20), self.bucket, key, Config=self._transfer
        )

    def get(self, key: str) -> bytes:
        with self.reader(key) as read:
            return read(-1)

    @contextmanager
    def reader(self, key: str) -> Iterator[Read]:
        check_key(key)
        found: list[str] = []

        def get_object(s3: Any) -> Any:
            body = s3.get_object(Bucket=self.bucket, Key=key)["Body"]
            found.append(str(s3.meta.endpoint_url))
            return body

        body = self._call("get", key, get_object)

        def read(n: int) -> bytes:
            with self._errors("get", key, found[-1]):
                return cast(bytes, body.read() if n < 0 else body.read(n))

        try:
            yield read
        finally:
            body.close()

    def delete(self, key: str) -> None:
        check_key(key)
        self._call("delete", key, lambda s3: s3.delete_object(Bucket=self.bucket, Key=key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        check_key(key)

        def head(s3: Any) -> bool:
            try:
                s3.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
            return True

        return self._call("head", key, head)

    def list(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        last = ""  # a listing cut off by a dead endpoint goes on after the last key on the next one

        def page_of(s3: Any) -> tuple[list[tuple[str, datetime]], bool]:
            args = {"Bucket": self.bucket, "Prefix": prefix, **({"StartAfter": last} if last else {})}
            page = s3.list_objects_v2(**args)
            items = [
                (str(i["Key"]), cast(datetime, i["LastModified"]).astimezone(UTC))
                for i in page.get("Contents", [])
            ]
            return items, bool(page.get("IsTruncated"))

        while True:
            items, more = self._call("list", "", page_of)
            yield from items
            if not more or not items:
                return
            last = items[-1][0]


def _no_answer(exc: BaseException | None) -> bool:
    """The endpoint did not answer: refused, timed out, or dropped the connection."""
    from botocore.exceptions import ConnectionError as NoConnection
    from botocore.exceptions import HTTPClientError

    return isinstance(exc, NoConnection | HTTPClientError)


def _no_retry_without_answer(caught_exception: BaseException | None = None, **_: object) -> bool | None:
    """botocore needs-retry hook: False (do not retry here) when the endpoint did not answer, so
    the backend moves on to the next endpoint; None leaves every other case to the retry policy."""
    return False if _no_answer(caught_exception) else None


def backend_from_env(default_root: Path) -> Backend:
    """S3 when VEIL_STORE_S3_ENDPOINT is set (with VEIL_STORE_S3_BUCKET, VEIL_STORE_S3_ACCESS_KEY,
    VEIL_STORE_S3_SECRET_KEY, optional VEIL_STORE_S3_REGION and VEIL_STORE_S3_FALLBACK_ENDPOINTS:
    comma-separated gateways of the same cluster, tried in order when the previous one does not
    answer), else the local folder `default_root`."""
    endpoint = os.environ.get("VEIL_STORE_S3_ENDPOINT")
    if not endpoint:
        return LocalFolderBackend(default_root)
    names = ("VEIL_STORE_S3_BUCKET", "VEIL_STORE_S3_ACCESS_KEY", "VEIL_STORE_S3_SECRET_KEY")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise StoreError(f"VEIL_STORE_S3_ENDPOINT is set but {', '.join(missing)} is not")
    bucket, access, secret = (os.environ[n] for n in names)
    region = os.environ.get("VEIL_STORE_S3_REGION", "us-east-1")
    fallbacks = [u.strip() for u in os.environ.get("VEIL_STORE_S3_FALLBACK_ENDPOINTS", "").split(",")]
    endpoints = [endpoint.strip(), *(u for u in fallbacks if u)]
    return S3Backend(endpoints, bucket, access, secret, region, create_bucket=True)
