"""A recording uploaded for a batch redaction job, streamed from the multipart form straight into a
private file: 0600, in a 0700 folder of its own (a random name) under the data folder, never whole
in memory and never under the browser's file name (only its extension is kept: the decoder needs
it). At most `Settings.max_upload_bytes`.

Not one byte of it reaches the disk in clear: each part is sealed as it arrives (the store's
chunked AES-256-GCM, `veil.store.crypto.Sealer`) under a data key of the upload's own, which
`Upload.key` hands to the job queue to wrap; `sealed_input` gives it back to the decoder only in
memory, while its job runs.

The CSRF token must come before the file: the `X-CSRF-Token` header, or the form's `csrf` field
(the page puts it first). Without it not one byte of the file is written. Any refusal (too large,
no file, not a video extension, a broken form, a client gone) removes the folder before the error
goes up, so nothing of a refused upload stays on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from veil.exceptions import AccessDenied, InputError, InputTooLarge, StoreIntegrityError
from veil.server.auth import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, Sessions
from veil.store.crypto import Sealer, decrypt_stream, new_data_key

FILE_FIELD = "recording"
SEALED_NAME = "upload.sealed"
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".webm")  # veil.capture.video.VIDEO_EXTENSIONS
MAX_FIELDS = 8
MAX_FIELD_BYTES = 1024
_FORM_SLACK = 64 * 1024  # the form's other fields and part headers, on top of the file


@dataclass(frozen=True, slots=True)
class Upload:
    """A whole uploaded recording on disk (sealed under `key`), and the form's other fields."""

    folder: Path
    path: Path  # the sealed file
    suffix: str  # the container's extension, which the decoder needs
    size: int  # of the recording, in clear
    sha256: str  # of the recording, in clear
    fields: dict[str, str]
    key: bytes = field(repr=False)


def object_id(folder: Path) -> str:
    """What the upload's ciphertext and its wrapped key are bound to (associated data): its folder."""
    return f"redaction-job-upload:{folder.name}"


def remove(folder: Path) -> None:
    """Remove a job's folder and everything in it (an upload, a half-done run's files)."""
    shutil.rmtree(folder, ignore_errors=True)


def private_folder(root: Path) -> Path:
    """A new folder only this process's user can enter, under `root` (made 0700 as well)."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)
    folder = root / secrets.token_hex(16)
    folder.mkdir(mode=0o700)
    return folder


@dataclass
class _Form:
    """The parser's callbacks: fields into small buffers, the file into `folder`."""

    folder: Path
    max_bytes: int
    csrf_ok: bool  # the header's token was right; else the `csrf` field must be, before the file
    sessions: Sessions
    cookie: str | None
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, bytes] = field(default_factory=dict)
    name: bytes = b""  # of the part header being read
    value: bytes = b""
    field_name: str = ""
    buffer: bytearray = field(default_factory=bytearray)
    file: IO[bytes] | None = None
    path: Path | None = None
    suffix: str = ""
    key: bytes = field(default_factory=new_data_key, repr=False)
    sealer: Sealer | None = None
    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    in_file: bool = False

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self._add("name", data[start:end]),
            "on_header_value": lambda data, start, end: self._add("value", data[start:end]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def _add(self, which: str, data: bytes) -> None:
        setattr(self, which, getattr(self, which) + data)
        if len(self.name) + len(self.value) > MAX_FIELD_BYTES:
            raise InputError("a form part header is too long")

    def part_begin(self) -> None:
        self.headers, self.buffer, self.in_file = {}, bytearray(), False

    def header_end(self) -> None:
        self.headers[self.name.decode("latin-1").lower()] = self.value
        self.name, self.value = b"", b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get("content-disposition", b""))
        name = options.get(b"name", b"").decode("latin-1")
        if b"filename" not in options:
            self.field_name = name
            return
        if name != FILE_FIELD or self.path is not None:
            raise InputError(f"the form takes one file, in the field '{FILE_FIELD}'")
        self.check_csrf()
        suffix = Path(options[b"filename"].decode("utf-8", "replace")).suffix.lower()
        if suffix not in VIDEO_SUFFIXES:  # the name itself is never echoed: it may name a person
            raise InputError(f"the recording must be a video file ({', '.join(VIDEO_SUFFIXES)})")
        self.path, self.suffix = self.folder / SEALED_NAME, suffix
        self.sealer = Sealer(self.key, object_id(self.folder))
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        self.file, self.in_file = os.fdopen(fd, "wb"), True
        self.file.write(self.sealer.header)

    def check_csrf(self) -> None:
        if not (self.csrf_ok or self.sessions.csrf_ok(self.cookie, self.fields.get(CSRF_FIELD))):
            raise AccessDenied("missing or wrong CSRF token: reload the page and try again")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.in_file:
            assert self.file is not None
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise too_large(self.max_bytes)
            self.digest.update(chunk)
            assert self.sealer is not None
            for sealed in self.sealer.update(chunk):
                self.file.write(sealed)
            return
        self.buffer += chunk
        if len(self.buffer) > MAX_FIELD_BYTES:
            raise InputError("a form field is too long")

    def part_end(self) -> None:
        if self.in_file:
            assert self.file is not None and self.sealer is not None
            self.file.write(self.sealer.final())
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            self.in_file = False
            return
        if len(self.fields) >= MAX_FIELDS:
            raise InputError("the form has too many fields")
        try:
            self.fields[self.field_name] = self.buffer.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("a form field is not UTF-8 text") from None


def too_large(max_bytes: int) -> InputTooLarge:
    return InputTooLarge(
        f"the recording is larger than this server accepts ({max_bytes / 2**20:.0f} MiB; "
        "`veil serve --max-upload-mb` sets the limit); nothing was kept"
    )


def _boundary(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise InputError("send the recording as a multipart/form-data form")
    return options[b"boundary"]


async def receive_upload(request: Request, sessions: Sessions, root: Path, max_bytes: int) -> Upload:
    """Stream the request's form into a new private folder under `root`; the upload, or an error
    (403 no CSRF token, 413 too large, 400 anything else) with nothing left on disk."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes + _FORM_SLACK:
        raise too_large(max_bytes)
    boundary = _boundary(request)
    cookie = request.cookies.get(CSRF_COOKIE)
    csrf_ok = sessions.csrf_ok(cookie, request.headers.get(CSRF_HEADER))
    folder = private_folder(root)
    form = _Form(folder, max_bytes, csrf_ok, sessions, cookie)
    try:
        parser = MultipartParser(boundary, form.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        form.check_csrf()
        if form.path is None or form.in_file:
            raise InputError(f"the form holds no whole recording (the file field '{FILE_FIELD}')")
        if form.size == 0:
            raise InputError("the recording is empty (0 bytes)")
    except FormParserError:
        _discard(form)
        raise InputError("the form could not be read (a broken multipart body)") from None
    except BaseException:
        _discard(form)
        raise
    return Upload(folder, form.path, form.suffix, form.size, form.digest.hexdigest(), form.fields, form.key)


def _discard(form: _Form) -> None:
    if form.file is not None:
        with contextlib.suppress(OSError):
            form.file.close()
    remove(form.folder)


@contextmanager
def sealed_input(sealed: Path, key: bytes, folder: Path, suffix: str, sha256: str) -> Iterator[Path]:
    """The recording sealed in `sealed`, in clear for as long as the block runs, at a path the
    decoder (and worker processes of this user, which open it by that path) can read: a symlink
    `input<suffix>` in `folder` to an anonymous memory file (`memfd_create`) of this process.
    No plaintext is written to a file system; when the block ends the link is removed and the
    memory file closed (its pages freed). StoreIntegrityError when the ciphertext was changed,
    cut or moved, or when what it decrypts to is not the upload that was accepted (`sha256`)."""
    fd = os.memfd_create("veil-redaction-input", os.MFD_CLOEXEC)
    link = folder / f"input{suffix}"
    try:
        digest = hashlib.sha256()
        with sealed.open("rb") as source:
            for plain in decrypt_stream(key, object_id(folder), source.read):
                digest.update(plain)
                view = memoryview(plain)
                while view:
                    view = view[os.write(fd, view) :]
        if digest.hexdigest() != sha256:
            raise StoreIntegrityError("the sealed upload is not the recording that was accepted")
        os.symlink(f"/proc/{os.getpid()}/fd/{fd}", link)
        yield link
    finally:
        link.unlink(missing_ok=True)
        os.close(fd)
