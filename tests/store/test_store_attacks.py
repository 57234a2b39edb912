"""Attacks on stored objects, each its own test. The attacker can write the backend and the
catalog (and recomputes the catalog's hash and size to match), but holds no key: every attack
ends in StoreIntegrityError, and no plaintext is returned."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from veil.exceptions import StoreIntegrityError
from veil.store.crypto import HEADER, TAG_BYTES
from veil.store.kek import FileKek
from veil.store.models import StoredObject
from veil.store.store import RecordingStore, backend_key

from .conftest import SMALL_CHUNK, StoreFactory

SEALED = SMALL_CHUNK + TAG_BYTES


def put(store: RecordingStore, data: bytes, segment: int = 0) -> StoredObject:
    return store.put(data, klass="redacted", owner="u", recording_id="rec", segment=segment,
                     policy_version="1")  # fmt: skip


def path_of(home: Path, obj: StoredObject) -> Path:
    return home / "objects" / backend_key(obj.object_id)


def chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    body = blob[HEADER.size :]
    return blob[: HEADER.size], [body[i : i + SEALED] for i in range(0, len(body), SEALED)]


def rewrite(home: Path, obj: StoredObject, blob: bytes) -> None:
    """Replace the ciphertext and make the catalog agree (hash and size), as an attacker would."""
    path_of(home, obj).write_bytes(blob)
    with sqlite3.connect(home / "catalog.sqlite3") as db:
        db.execute(
            "UPDATE veil_store_objects SET sha256 = ?, size = ? WHERE object_id = ?",
            (hashlib.sha256(blob).hexdigest(), len(blob), obj.object_id),
        )


def refused(store: RecordingStore, obj: StoredObject, match: str | None = None) -> None:
    with pytest.raises(StoreIntegrityError, match=match):
        store.get(obj.object_id, actor="analyst")


@pytest.fixture
def obj(store: RecordingStore) -> StoredObject:
    return put(store, os.urandom(4 * SMALL_CHUNK))  # four full chunks, the last one final


def test_flip_one_byte(store: RecordingStore, obj: StoredObject, home: Path) -> None:
    blob = bytearray(path_of(home, obj).read_bytes())
    blob[HEADER.size + SEALED + 100] ^= 0x01
    rewrite(home, obj, bytes(blob))
    refused(store, obj, "chunk 1")


def test_flip_the_last_byte_catalog_untouched(store: RecordingStore, obj: StoredObject, home: Path) -> None:
    blob = bytearray(path_of(home, obj).read_bytes())
    blob[-1] ^= 0x80
    path_of(home, obj).write_bytes(bytes(blob))  # catalog left alone
    refused(store, obj)


def test_swap_two_chunks(store: RecordingStore, obj: StoredObject, home: Path) -> None:
    header, parts = chunks(path_of(home, obj).read_bytes())
    parts[0], parts[1] = parts[1], parts[0]
    rewrite(home, obj, header + b"".join(parts))
    refused(store, obj, "chunk 0")


def test_truncate_the_last_chunk(store: RecordingStore, obj: StoredObject, home: Path) -> None:
    header, parts = chunks(path_of(home, obj).read_bytes())
    rewrite(home, obj, header + b"".join(parts[:-1]))
    refused(store, obj, "chunk 2")


def test_truncate_inside_the_last_chunk(store: RecordingStore, obj: StoredObject, home: Path) -> None:
    blob = path_of(home, obj).read_bytes()
    rewrite(home, obj, blob[:-5])
    refused(store, obj)


def test_append_a_chunk(store: RecordingStore, obj: StoredObject, home: Path) -> None:
    header, parts = chunks(path_of(home, obj).read_bytes())
    rewrite(home, obj, header + b"".join([*parts, parts[1]]))
    refused(store, obj, "chunk 3")


def test_swap_ciphertext_between_objects(store: RecordingStore, obj: StoredObject, home: Path) -> None:
    other = put(store, os.urandom(4 * SMALL_CHUNK), segment=1)
    rewrite(home, obj, path_of(home, other).read_bytes())
    refused(store, obj, "chunk 0")


def test_move_a_chunk_from_another_object(store: RecordingStore, obj: StoredObject, home: Path) -> None:
    other = put(store, os.urandom(4 * SMALL_CHUNK), segment=1)
    header, parts = chunks(path_of(home, obj).read_bytes())
    _, foreign = chunks(path_of(home, other).read_bytes())
    parts[2] = foreign[2]
    rewrite(home, obj, header + b"".join(parts))
    refused(store, obj, "chunk 2")


def test_swap_wrapped_data_keys_between_objects(store: RecordingStore, obj: StoredObject, home: Path) -> None:
    other = put(store, os.urandom(100), segment=1)
    with sqlite3.connect(home / "catalog.sqlite3") as db:
        keys = "veil_store_data_keys"
        [(wrapped,)] = db.execute(f"SELECT wrapped FROM {keys} WHERE object_id = ?", (other.object_id,))
        db.execute(f"UPDATE {keys} SET wrapped = ? WHERE object_id = ?", (wrapped, obj.object_id))
    refused(store, obj, "unwrapped")


def test_wrong_kek(make_store: StoreFactory, obj: StoredObject, tmp_path: Path) -> None:
    stranger = make_store(kek=FileKek(tmp_path / "another-home"))
    refused(stranger, obj, "unwrapped")
