"""Per-object envelope encryption: AES-256-GCM in chunks, the STREAM construction.

Every object gets its own random 256-bit data key, used for that object only, so nonces can be
derived from the position: nonce = chunk index (8 bytes) | final flag (1 byte) | 3 zero bytes. The
associated data of every chunk is the object's header plus its object id. Hence:

- a flipped byte anywhere fails that chunk's tag;
- two chunks swapped decrypt under the wrong index and fail;
- a truncated object ends on a chunk that was sealed as "not final" and fails;
- an appended chunk follows one sealed as "final" (and is sealed under no key we hold) and fails;
- an object copied under another object's id or key fails (other key, other associated data).

Layout: MAGIC (8 bytes) | chunk size (4 bytes, big-endian) | sealed chunks. Each sealed chunk is
`chunk size` plaintext bytes plus the 16-byte tag, except the final one, which may be shorter (an
empty object is one empty final chunk). Encryption and decryption stream chunk by chunk: memory
is a few chunks whatever the object's size.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from veil.exceptions import StoreIntegrityError

MAGIC = b"VEILOBJ1"
HEADER = struct.Struct(">8sI")
TAG_BYTES = 16
DEK_BYTES = 32
DEFAULT_CHUNK = 1 << 20
MIN_CHUNK, MAX_CHUNK = 1 << 10, 1 << 26

Read = Callable[[int], bytes]


def new_data_key() -> bytes:
    """A fresh random AES-256 key for one object (never reused for another)."""
    return AESGCM.generate_key(bit_length=256)


def _nonce(index: int, final: bool) -> bytes:
    return struct.pack(">QB3x", index, 1 if final else 0)


def _aad(header: bytes, object_id: str) -> bytes:
    return header + object_id.encode("utf-8")


def _read_exactly(read: Read, n: int) -> bytes:
    """Up to n bytes: fewer only at the end of the stream (pipes and sockets return short reads)."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        part = read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def as_reader(data: bytes | BinaryIO) -> Read:
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        pos = 0

        def read(n: int) -> bytes:
            nonlocal pos
            out = bytes(view[pos : pos + n])
            pos += len(out)
            return out

        return read
    return data.read


class Sealer:
    """Push-style encryption of one object: `header`, then `update(data)` as bytes arrive (each
    call returns the chunks it sealed), then `final()` (the last chunk). The same bytes as
    `encrypt_stream` on the whole plaintext: a chunk is sealed "not final" only once a byte after
    it has arrived, so the writer never needs to know the length in advance."""

    def __init__(self, dek: bytes, object_id: str, chunk_size: int = DEFAULT_CHUNK) -> None:
        if len(dek) != DEK_BYTES:
            raise ValueError("data key must be 32 bytes")
        if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
            raise ValueError(f"chunk size must be between {MIN_CHUNK} and {MAX_CHUNK} bytes")
        self.header = HEADER.pack(MAGIC, chunk_size)
        self._aad, self._aead, self._size = _aad(self.header, object_id), AESGCM(dek), chunk_size
        self._buffer = bytearray()
        self._index = 0
        self._done = False

    def update(self, data: bytes) -> list[bytes]:
        if self._done:
            raise ValueError("the object was already sealed")
        self._buffer += data
        sealed = []
        while len(self._buffer) > self._size:
            sealed.append(self._seal(bytes(self._buffer[: self._size]), final=False))
            del self._buffer[: self._size]
        return sealed

    def final(self) -> bytes:
        if self._done:
            raise ValueError("the object was already sealed")
        self._done = True
        last = self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()
        return last

    def _seal(self, plain: bytes, *, final: bool) -> bytes:
        sealed = self._aead.encrypt(_nonce(self._index, final), plain, self._aad)
        self._index += 1
        return sealed


def encrypt_stream(
    dek: bytes, object_id: str, data: bytes | BinaryIO, chunk_size: int = DEFAULT_CHUNK
) -> Iterator[bytes]:
    """Yield the header, then each sealed chunk of `data` (bytes or a binary file)."""
    sealer, read = Sealer(dek, object_id, chunk_size), as_reader(data)
    yield sealer.header
    while piece := read(chunk_size):
        yield from sealer.update(piece)
    yield sealer.final()


def decrypt_stream(dek: bytes, object_id: str, read: Read) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk, each only after its tag checked; StoreIntegrityError
    (naming the chunk index, never content) when anything was changed, moved, cut or added."""
    header = _read_exactly(read, HEADER.size)
    if len(header) != HEADER.size:
        raise StoreIntegrityError("object is truncated: no complete header")
    magic, chunk_size = HEADER.unpack(header)
    if magic != MAGIC or not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise StoreIntegrityError("object header is not a Veil object header (damaged or not ours)")
    try:
        aead = AESGCM(dek)
    except ValueError as exc:
        raise StoreIntegrityError("data key has the wrong length") from exc
    aad, sealed_size = _aad(header, object_id), chunk_size + TAG_BYTES
    index, current = 0, _read_exactly(read, sealed_size)
    if len(current) < TAG_BYTES:
        raise StoreIntegrityError("object is truncated: no final chunk")
    while True:
        following = _read_exactly(read, sealed_size) if len(current) == sealed_size else b""
        final = not following
        try:
            yield aead.decrypt(_nonce(index, final), current, aad)
        except InvalidTag:
            raise StoreIntegrityError(
                f"object failed authentication at chunk {index} (tampered, reordered, truncated, "
                "extended, or not this object's ciphertext)"
            ) from None
        if final:
            return
        if len(following) < TAG_BYTES:
            raise StoreIntegrityError(f"object is truncated after chunk {index}")
        index, current = index + 1, following


def decrypt_bytes(dek: bytes, object_id: str, blob: bytes) -> bytes:
    return b"".join(decrypt_stream(dek, object_id, as_reader(blob)))


def encrypt_bytes(dek: bytes, object_id: str, data: bytes, chunk_size: int = DEFAULT_CHUNK) -> bytes:
    return b"".join(encrypt_stream(dek, object_id, data, chunk_size))


def iter_reader(chunks: Iterable[bytes]) -> Read:
    """A `read(n)` over an iterable of byte strings (to decrypt what another stream yields)."""
    it = iter(chunks)
    buf = bytearray()

    def read(n: int) -> bytes:
        while len(buf) < n:
            nxt = next(it, None)
            if nxt is None:
                break
            buf.extend(nxt)
        out = bytes(buf[:n])
        del buf[:n]
        return out

    return read
