"""Chunked AES-256-GCM (STREAM): round trips at every boundary, and the key-encryption keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.exceptions import StoreError, StoreIntegrityError
from veil.store.crypto import HEADER, TAG_BYTES, Sealer, decrypt_bytes, encrypt_bytes, new_data_key
from veil.store.kek import FileKek, FileKms

CHUNK = 1024
OID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5])
def test_round_trip_at_every_chunk_boundary(size: int) -> None:
    dek, data = new_data_key(), os.urandom(size)
    blob = encrypt_bytes(dek, OID, data, CHUNK)
    chunks = max(1, -(-size // CHUNK))
    assert len(blob) == HEADER.size + size + chunks * TAG_BYTES
    assert decrypt_bytes(dek, OID, blob) == data


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 4 * CHUNK + 3), cuts=st.lists(st.integers(0, 4 * CHUNK + 3), max_size=6))
def test_sealer_fed_in_pieces_writes_the_bytes_of_encrypt_stream(size: int, cuts: list[int]) -> None:
    """Bytes pushed as they arrive (an upload's parts) seal exactly as the whole plaintext would,
    whatever the pieces, including pieces that end on a chunk boundary."""
    dek, data = new_data_key(), os.urandom(size)
    sealer = Sealer(dek, OID, CHUNK)
    parts, start = [sealer.header], 0
    for end in [*sorted(c for c in cuts if c <= size), size]:
        parts += sealer.update(data[start:end])
        start = end
    parts.append(sealer.final())
    blob = b"".join(parts)
    assert decrypt_bytes(dek, OID, blob) == data
    # nonces come from chunk positions: the same key and plaintext seal to the same bytes
    assert blob == encrypt_bytes(dek, OID, data, CHUNK)


def test_sealer_never_finished_does_not_decrypt() -> None:
    """An upload cut off before its end (no `final`) is refused, even on a chunk boundary."""
    dek = new_data_key()
    sealer = Sealer(dek, OID, CHUNK)
    blob = sealer.header + b"".join(sealer.update(os.urandom(2 * CHUNK + 1)))
    with pytest.raises(StoreIntegrityError):
        decrypt_bytes(dek, OID, blob)
    sealer.final()
    with pytest.raises(ValueError, match="already sealed"):
        sealer.update(b"more")


def test_exact_multiple_truncated_to_a_shorter_multiple_fails() -> None:
    """Cutting whole chunks off an object of full chunks still leaves a non-final last chunk."""
    dek = new_data_key()
    blob = encrypt_bytes(dek, OID, os.urandom(3 * CHUNK), CHUNK)
    with pytest.raises(StoreIntegrityError, match="chunk 1"):
        decrypt_bytes(dek, OID, blob[: HEADER.size + 2 * (CHUNK + TAG_BYTES)])


def test_header_chunk_size_changed_fails() -> None:
    dek = new_data_key()
    blob = bytearray(encrypt_bytes(dek, OID, os.urandom(5000), CHUNK))
    blob[8:12] = (2048).to_bytes(4, "big")
    with pytest.raises(StoreIntegrityError):
        decrypt_bytes(dek, OID, bytes(blob))


def test_empty_and_garbage_objects_fail() -> None:
    dek = new_data_key()
    for blob in (b"", b"VEILOBJ1", encrypt_bytes(dek, OID, b"x", CHUNK)[: HEADER.size], b"\0" * 64):
        with pytest.raises(StoreIntegrityError):
            decrypt_bytes(dek, OID, blob)


def test_file_kek_wraps_with_the_object_id_bound(tmp_path: Path) -> None:
    kek, dek = FileKek(tmp_path), new_data_key()
    blob = kek.wrap(dek, b"object-a")
    assert kek.unwrap(blob, b"object-a") == dek
    with pytest.raises(StoreIntegrityError, match="unwrapped"):
        kek.unwrap(blob, b"object-b")
    key_file = tmp_path / "keys" / "store-kek.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert FileKek(tmp_path).key_id == kek.key_id  # the same key next time


def test_file_kek_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    FileKek(tmp_path)
    (tmp_path / "keys" / "store-kek.key").chmod(0o644)
    with pytest.raises(StoreError, match="chmod 600"):
        FileKek(tmp_path)


def test_wrong_kek_cannot_unwrap(tmp_path: Path) -> None:
    blob = FileKek(tmp_path / "a").wrap(new_data_key(), b"o")
    with pytest.raises(StoreIntegrityError):
        FileKek(tmp_path / "b").unwrap(blob, b"o")


def test_fake_kms_rotation_keeps_old_versions_and_old_key_ids(tmp_path: Path) -> None:
    path = tmp_path / "kms.json"
    kms = FileKms(path)
    first_id = kms.key_id
    old_blob = kms.wrap(b"k" * 32, b"obj-1")
    assert kms.rotate_key(first_id.removeprefix("kms:")) == 2
    new_blob = kms.wrap(b"k" * 32, b"obj-2")
    assert old_blob[:20] != new_blob[:20]  # another key version named in the blob
    assert kms.unwrap(old_blob, b"obj-1") == kms.unwrap(new_blob, b"obj-2") == b"k" * 32
    second = FileKms(path, key_id=kms.create_key())  # a new key id for new objects
    assert second.key_id != first_id
    assert second.unwrap(old_blob, b"obj-1") == b"k" * 32  # the old key id still decrypts
    with pytest.raises(StoreIntegrityError):
        second.unwrap(old_blob, b"obj-2")  # the encryption context is authenticated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_fake_kms_kms_shaped_api(tmp_path: Path) -> None:
    kms = FileKms(tmp_path / "kms.json")
    key_id = kms.key_id.removeprefix("kms:")
    blob = kms.encrypt(key_id, b"secret", {"purpose": "test"})
    assert kms.decrypt(blob, {"purpose": "test"}) == (key_id, b"secret")
    with pytest.raises(StoreError, match="does not exist"):
        kms.encrypt("00" * 16, b"x", {})
    with pytest.raises(StoreError, match="does not exist"):
        FileKms(tmp_path / "kms.json", key_id="ff" * 16)
    other = FileKms(tmp_path / "other.json")
    with pytest.raises(StoreIntegrityError):
        other.decrypt(blob, {"purpose": "test"})  # a key this KMS does not hold


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=5 * CHUNK),
    where=st.integers(min_value=0),
    bit=st.integers(min_value=0, max_value=7),
)
def test_any_flipped_bit_fails(data: bytes, where: int, bit: int) -> None:
    dek = new_data_key()
    blob = bytearray(encrypt_bytes(dek, OID, data, CHUNK))
    blob[where % len(blob)] ^= 1 << bit
    with pytest.raises(StoreIntegrityError):
        decrypt_bytes(dek, OID, bytes(blob))


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=5 * CHUNK),
    cut=st.integers(min_value=1),
    extra=st.binary(min_size=1, max_size=2 * CHUNK),
)
def test_any_truncation_or_extension_fails(data: bytes, cut: int, extra: bytes) -> None:
    dek = new_data_key()
    blob = encrypt_bytes(dek, OID, data, CHUNK)
    with pytest.raises(StoreIntegrityError):
        decrypt_bytes(dek, OID, blob[: len(blob) - 1 - (cut % len(blob))])
    with pytest.raises(StoreIntegrityError):
        decrypt_bytes(dek, OID, blob + extra)
