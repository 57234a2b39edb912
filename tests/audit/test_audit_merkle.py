"""RFC 6962/9162 known answers and property tests for veil.audit.merkle."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.audit import merkle

# The certificate-transparency test data (transparency-dev/merkle testonly/constants.go).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H_96A2 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H_5F08 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H_6B47 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
H_BC1A = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
H_CA85 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
H_0EBC = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
H_0298 = "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"
H_B086 = "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"
# (leaf index, tree size) -> audit path
CT_INCLUSION = {
    (0, 1): [],
    (0, 8): [H_96A2, H_5F08, H_6B47],
    (5, 8): [H_BC1A, H_CA85, CT_ROOTS[4]],
    (2, 3): [CT_ROOTS[2]],
    (1, 5): [CT_ROOTS[1], H_5F08, H_BC1A],
    (3, 8): [H_0298, CT_ROOTS[2], H_6B47],
    (7, 8): [H_B086, H_0EBC, CT_ROOTS[4]],
}
# (old size, new size) -> consistency proof
CT_CONSISTENCY = {
    (1, 1): [],
    (1, 8): [H_96A2, H_5F08, H_6B47],
    (6, 8): [H_0EBC, H_CA85, CT_ROOTS[4]],
    (2, 5): [H_5F08, H_BC1A],
}
CT_HASHES = [merkle.leaf_hash(x) for x in CT_LEAVES]


def _ref_mth(data: list[bytes]) -> bytes:
    """A second, deliberately naive implementation of RFC 9162 §2.1.1 over leaf *data*."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + _ref_mth(data[:k]) + _ref_mth(data[k:])).digest()


def test_empty_tree_and_single_leaf() -> None:
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root_hash([]) == merkle.EMPTY_ROOT
    # One empty leaf: SHA-256(0x00).
    assert merkle.leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert merkle.root_hash([merkle.leaf_hash(b"")]) == merkle.leaf_hash(b"")


@pytest.mark.parametrize("size", range(9))
def test_ct_roots(size: int) -> None:
    assert merkle.root_hash(CT_HASHES[:size]).hex() == CT_ROOTS[size]
    assert _ref_mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size"), sorted(CT_INCLUSION))
def test_ct_inclusion_vectors(index: int, size: int) -> None:
    want = [bytes.fromhex(h) for h in CT_INCLUSION[(index, size)]]
    leaves = CT_HASHES[:size]
    assert merkle.inclusion_proof(leaves, index) == want
    root = bytes.fromhex(CT_ROOTS[size])
    assert merkle.verify_inclusion(index, size, CT_HASHES[index], want, root)
    assert not merkle.verify_inclusion(index, size, CT_HASHES[(index + 1) % 8], want, root)


@pytest.mark.parametrize(("old", "new"), sorted(CT_CONSISTENCY))
def test_ct_consistency_vectors(old: int, new: int) -> None:
    want = [bytes.fromhex(h) for h in CT_CONSISTENCY[(old, new)]]
    assert merkle.consistency_proof(CT_HASHES[:new], old) == want
    old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    assert merkle.verify_consistency(old, new, old_root, new_root, want)
    if old != new:
        assert not merkle.verify_consistency(old, new, bytes.fromhex(CT_ROOTS[old - 1]), new_root, want)


def test_frontier_round_trip_matches_reference() -> None:
    frontier = merkle.Frontier()
    for size in range(1, 70):
        frontier.append(merkle.leaf_hash(bytes([size])))
        again = merkle.Frontier.from_bytes(size, frontier.to_bytes())
        data = [bytes([i]) for i in range(1, size + 1)]
        assert again.root() == frontier.root() == _ref_mth(data)
    with pytest.raises(ValueError, match="does not fit"):
        merkle.Frontier.from_bytes(3, b"\x00" * 32)


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_inclusion_out_of_range(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        merkle.inclusion_proof(CT_HASHES[:size], index)
    assert not merkle.verify_inclusion(index, size, CT_HASHES[0], [], merkle.EMPTY_ROOT)


def _leaves(n: int, salt: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(salt.to_bytes(4, "big") + i.to_bytes(4, "big")) for i in range(n)]


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(st.data(), sizes)
def test_inclusion_properties(data: st.DataObject, n: int) -> None:
    leaves = _leaves(n)
    index = data.draw(st.integers(0, n - 1))
    root = merkle.root_hash(leaves)
    proof = merkle.inclusion_proof(leaves, index)
    assert merkle.verify_inclusion(index, n, leaves[index], proof, root)
    bit = data.draw(st.integers(0, 255))
    assert not merkle.verify_inclusion(index, n, _flip(leaves[index], bit), proof, root)
    assert not merkle.verify_inclusion(index, n, leaves[index], proof, _flip(root, bit))
    assert not merkle.verify_inclusion(index, n, leaves[index], [*proof, root], root)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        flipped = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
        assert not merkle.verify_inclusion(index, n, leaves[index], flipped, root)
        assert not merkle.verify_inclusion(index, n, leaves[index], proof[:-1], root)
    other = data.draw(st.integers(index + 1, n + 5).filter(lambda s: s != n))
    bigger = _leaves(max(other, n))
    assert not merkle.verify_inclusion(index, other, leaves[index], proof, merkle.root_hash(bigger[:other]))


@settings(max_examples=150, deadline=None)
@given(st.data(), sizes)
def test_consistency_properties(data: st.DataObject, n: int) -> None:
    leaves = _leaves(n)
    m = data.draw(st.integers(0, n))
    old_root, new_root = merkle.root_hash(leaves[:m]), merkle.root_hash(leaves)
    proof = merkle.consistency_proof(leaves, m)
    assert merkle.verify_consistency(m, n, old_root, new_root, proof)
    bit = data.draw(st.integers(0, 255))
    if m == n:
        assert not merkle.verify_consistency(m, n, old_root, _flip(new_root, bit), proof)
        return
    # Rollback: the "new" tree is the smaller one.
    assert not merkle.verify_consistency(n, m, new_root, old_root, proof)
    if m == 0:
        return  # every tree extends the empty tree: nothing binds the new root here
    assert not merkle.verify_consistency(m, n, old_root, _flip(new_root, bit), proof)
    assert not merkle.verify_consistency(m, n, _flip(old_root, bit), new_root, proof)
    j = data.draw(st.integers(0, len(proof) - 1))
    flipped = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
    assert not merkle.verify_consistency(m, n, old_root, new_root, flipped)
    assert not merkle.verify_consistency(m, n, old_root, new_root, proof[:-1])
    assert not merkle.verify_consistency(m, n, old_root, new_root, [*proof, new_root])
    # Forked history: a log that rewrote entry p < m cannot prove it extends the old tree.
    p = data.draw(st.integers(0, m - 1))
    fork = [*leaves[:p], merkle.leaf_hash(b"forged"), *leaves[p + 1 :]]
    fork_proof = merkle.consistency_proof(fork, m)
    assert not merkle.verify_consistency(m, n, old_root, merkle.root_hash(fork), fork_proof)
    # And a proof against a wrong (but real) old size fails.
    other = data.draw(st.integers(1, n - 1).filter(lambda s: s != m)) if n > 2 else None
    if other is not None:
        assert not merkle.verify_consistency(other, n, merkle.root_hash(leaves[:other]), new_root, proof)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 100))
def test_roots_match_reference_implementation(n: int) -> None:
    data = [i.to_bytes(2, "big") for i in range(n)]
    assert merkle.root_hash([merkle.leaf_hash(d) for d in data]) == _ref_mth(data)
