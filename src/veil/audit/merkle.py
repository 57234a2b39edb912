"""Merkle tree hashing and proofs exactly as RFC 9162 (Certificate Transparency v2) §2.1 defines them.

    leaf hash  = SHA-256(0x00 || data)
    node hash  = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256("")

Functions here take *leaf hashes*, not leaf data: the ledger stores one 32-byte leaf hash per entry.
Proof generation follows PATH (§2.1.3.1) and SUBPROOF (§2.1.4.1); verification follows the step-by-step
algorithms of §2.1.3.2 and §2.1.4.2, so an auditor can compare line by line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The perfect subtrees that make up a tree of `size` leaves, largest first (a "compact range").

    Appending is O(log n) and the root of the current size is one fold, so a writer never has to
    reload every leaf and a verifier gets the root at every size in one pass.
    """

    __slots__ = ("_nodes", "size")

    def __init__(self) -> None:
        self.size = 0
        self._nodes: list[tuple[int, bytes]] = []  # (height, hash)

    def append(self, leaf: bytes) -> None:
        height, node = 0, leaf
        while self._nodes and self._nodes[-1][0] == height:
            _, left = self._nodes.pop()
            node = node_hash(left, node)
            height += 1
        self._nodes.append((height, node))
        self.size += 1

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        acc = self._nodes[-1][1]
        for _, left in reversed(self._nodes[:-1]):
            acc = node_hash(left, acc)
        return acc

    def copy(self) -> Frontier:
        out = Frontier()
        out.size, out._nodes = self.size, list(self._nodes)
        return out

    def to_bytes(self) -> bytes:
        return b"".join(h for _, h in self._nodes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        """Rebuild from `to_bytes`; the heights follow from the set bits of `size`."""
        heights = [b for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1]
        if size < 0 or len(data) != HASH_SIZE * len(heights):
            raise ValueError(f"frontier of {len(data)} bytes does not fit a tree of size {size}")
        out = cls()
        out.size = size
        out._nodes = [(h, data[i * HASH_SIZE : (i + 1) * HASH_SIZE]) for i, h in enumerate(heights)]
        return out


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) for the given leaf hashes (§2.1.1)."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of §2.1.3.1: the audit path of leaf `index` in the tree of all `leaves`."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of size {len(leaves)}")
    return _path(leaves, index)


def _path(leaves: Sequence[bytes], m: int) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(leaves[:k], m), root_hash(leaves[k:])]
    return [*_path(leaves[k:], m - k), root_hash(leaves[:k])]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of §2.1.4.1 between the first `old_size` leaves and all `leaves`.

    Empty when old_size is 0 or equal to the tree size: nothing needs proving then.
    """
    if not 0 <= old_size <= len(leaves):
        raise ValueError(f"old size {old_size} is outside 0..{len(leaves)}")
    if old_size == 0:
        return []
    return _subproof(leaves, old_size, True)


def _subproof(leaves: Sequence[bytes], m: int, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root_hash(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves[:k], m, complete), root_hash(leaves[k:])]
    return [*_subproof(leaves[k:], m - k, False), root_hash(leaves[:k])]


def verify_inclusion(index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """§2.1.3.2: True when `proof` shows leaf hash `leaf` at `index` in the tree with `root`."""
    if index < 0 or index >= tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """§2.1.4.2: True when `proof` shows the tree (old_size, old_root) is a prefix of (new_size, new_root).

    The RFC algorithm covers 0 < first < second; the two trivial cases are decided here first:
    equal sizes need an empty proof and equal roots, and every tree extends the empty tree.
    """
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0
