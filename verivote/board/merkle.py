"""The board's Merkle tree: RFC 9162 (Certificate Transparency 2.0) §2.1 hashing and proofs.

* leaf hash ``SHA-256(0x00 ‖ entry line)``, interior node ``SHA-256(0x01 ‖ left ‖ right)``,
  the empty tree ``SHA-256("")``;
* the tree of ``n`` leaves splits at ``k``, the largest power of two below ``n``;
* inclusion proofs (§2.1.3) and consistency proofs (§2.1.4), with the RFC's verification
  algorithms (§2.1.3.2, §2.1.4.2).

The verifiers here (:func:`verify_inclusion`, :func:`verify_consistency`) import nothing
but ``hashlib``: any observer can check a receipt or two tree heads without the rest of the
board. Preconditions (index < size, hash lengths, proof length) are checked before hashing,
and a mismatch raises a typed error that carries both roots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from verivote.errors import InvalidConsistency, InvalidInclusion

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 ‖ data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only Merkle tree that keeps every complete perfect subtree's hash, so a
    root, inclusion or consistency proof for any size costs O(log n) hashes.

    Memory: about two hashes per leaf (64 bytes).
    """

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]

    @classmethod
    def from_leaves(cls, leaves: Sequence[bytes]) -> MerkleTree:
        """The tree of ``leaves`` (leaf hashes, in order), built level by level: the same
        tree as appending them one by one, with one hash per interior node and no per-leaf
        bookkeeping. Raises ValueError for a leaf that is not 32 bytes."""
        if any(len(leaf) != HASH_SIZE for leaf in leaves):
            raise ValueError("a leaf hash is 32 bytes")
        tree = cls()
        row = list(leaves)
        tree._levels = [row]
        while len(row) >= 2:
            sha = hashlib.sha256
            row = [sha(b"\x01" + row[i] + row[i + 1]).digest() for i in range(0, len(row) - 1, 2)]
            tree._levels.append(row)
        return tree

    def __len__(self) -> int:
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``; IndexError outside the tree."""
        return self._levels[0][index]

    def append(self, leaf: bytes) -> int:
        """Add a leaf hash (see :func:`leaf_hash`); returns its index."""
        if len(leaf) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        levels = self._levels
        levels[0].append(leaf)
        index = len(levels[0]) - 1
        level = 0
        while len(levels[level]) % 2 == 0:
            row = levels[level]
            if level + 1 == len(levels):
                levels.append([])
            levels[level + 1].append(node_hash(row[-2], row[-1]))
            level += 1
        return index

    def _hash(self, start: int, end: int) -> bytes:
        """The hash of leaves ``[start, end)``, where ``start`` is a multiple of the largest
        power of two not exceeding ``end - start`` (true for every range the RFC asks)."""
        n = end - start
        if n & (n - 1) == 0:  # a perfect subtree, stored
            level = n.bit_length() - 1
            return self._levels[level][start >> level]
        k = _split(n)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The tree head hash of the first ``size`` leaves (all by default)."""
        size = len(self) if size is None else size
        if not 0 <= size <= len(self):
            raise ValueError(f"size {size} is outside 0..{len(self)}")
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 PATH)."""
        size = len(self) if size is None else size
        if not 0 <= index < size <= len(self):
            raise ValueError(f"need 0 <= index < size <= {len(self)}")
        path: list[bytes] = []
        start, end, m = 0, size, index
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                path.append(self._hash(start + k, end))
                end = start + k
            else:
                path.append(self._hash(start, start + k))
                start, m = start + k, m - k
        path.reverse()
        return path

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``
        leaves (RFC 9162 SUBPROOF); empty when ``first`` is 0 or equals ``second``."""
        second = len(self) if second is None else second
        if not 0 <= first <= second <= len(self):
            raise ValueError(f"need 0 <= first <= second <= {len(self)}")
        if first == 0 or first == second:
            return []
        proof: list[bytes] = []
        start, end, m, complete = 0, second, first, True
        while True:
            n = end - start
            if m == n:
                if not complete:
                    proof.append(self._hash(start, end))
                break
            k = _split(n)
            if m <= k:
                proof.append(self._hash(start + k, end))
                end = start + k
            else:
                proof.append(self._hash(start, start + k))
                start, m, complete = start + k, m - k, False
        proof.reverse()
        return proof


def _check_hashes(hashes: Sequence[bytes], what: str, error: type[Exception]) -> None:
    for h in hashes:
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise error(f"{what}: every hash is {HASH_SIZE} bytes")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size`` leaves
    with head ``root``; raises :class:`~verivote.errors.InvalidInclusion` otherwise
    (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise InvalidInclusion(f"inclusion: index {index} is not below tree size {size}")
    _check_hashes([leaf, root, *proof], "inclusion", InvalidInclusion)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise InvalidInclusion("inclusion: the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidInclusion("inclusion: the proof is shorter than the tree is deep")
    if r != root:
        raise InvalidInclusion(
            f"inclusion: path leads to root {r.hex()}, the head says {root.hex()}"
        )


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``first`` leaves with head ``first_root`` is a prefix of the
    tree of ``second`` leaves with head ``second_root``; raises
    :class:`~verivote.errors.InvalidConsistency` otherwise (RFC 9162 §2.1.4.2)."""
    if not 0 <= first <= second:
        raise InvalidConsistency(f"consistency: sizes {first} and {second} go backwards")
    _check_hashes([first_root, second_root, *proof], "consistency", InvalidConsistency)
    if first == second:
        if proof:
            raise InvalidConsistency("consistency: equal sizes need an empty proof")
        if first_root != second_root:
            raise InvalidConsistency(
                f"consistency: two heads of size {first} with different roots "
                f"{first_root.hex()} and {second_root.hex()}"
            )
        return
    if first == 0:
        if proof:
            raise InvalidConsistency("consistency: from the empty tree the proof is empty")
        return
    if not proof:
        raise InvalidConsistency("consistency: the proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidConsistency("consistency: the proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidConsistency("consistency: the proof is too short")
    if fr != first_root:
        raise InvalidConsistency(
            f"consistency: the proof rebuilds old root {fr.hex()}, the head says {first_root.hex()}"
        )
    if sr != second_root:
        raise InvalidConsistency(
            f"consistency: the proof rebuilds new root {sr.hex()}, "
            f"the head says {second_root.hex()}"
        )
