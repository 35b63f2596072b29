"""RFC 6962 Merkle tree maths over stored perfect subtrees (standard library only).

Hashing (RFC 6962 §2.1, RFC 9162 §2.1.1), with SHA-256:

* ``leaf_hash(d)    = SHA-256(0x00 || d)``: covers exactly the leaf's bytes;
* ``node_hash(l, r) = SHA-256(0x01 || l || r)``: covers exactly two child hashes;
* the root of the empty tree is ``SHA-256(b"")``.

The 0x00/0x01 prefixes keep a leaf from ever being mistaken for an inner node
(second-preimage resistance), which is why a leaf hash is never the raw SHA-256
of the data.

Storage model: a tree is persisted as *perfect aligned subtree nodes*. Node
``(level L, index i)`` is the hash of the ``2**L`` leaves ``[i * 2**L, (i + 1) * 2**L)``;
level 0 nodes are leaf hashes. Such a node never changes once its last leaf is
appended, so it can be written once and never updated. The RFC 6962 root of any
size ``n`` is then a fold of at most ``log2(n) + 1`` of these nodes (one per set
bit of ``n``), and every proof needs ``O(log n)`` of them: nothing here ever
reads all leaves.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
"""Every hash in the tree is a 32-byte SHA-256 digest."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""RFC 6962 MTH({}) = SHA-256 of the empty string."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

Node = tuple[int, int, bytes]
"""``(level, index, hash)`` of one perfect aligned subtree."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


class NodeReader(Protocol):
    """Read access to stored perfect subtree nodes.

    ``node(level, index)`` returns the 32-byte hash of leaves
    ``[index * 2**level, (index + 1) * 2**level)``. It is only ever asked for
    nodes whose leaves all exist; an implementation should raise ``LookupError``
    (e.g. ``KeyError``) for a node it does not hold.
    """

    def node(self, level: int, index: int) -> bytes: ...


class MemoryNodeStore:
    """A dict-backed :class:`NodeReader`, for tests and small in-memory trees."""

    def __init__(self) -> None:
        self._nodes: dict[tuple[int, int], bytes] = {}
        self.reads = 0  # counted so tests can check proofs stay O(log n)

    @classmethod
    def from_leaf_hashes(cls, hashes: Iterable[bytes]) -> MemoryNodeStore:
        """Store every perfect node of the tree over ``hashes``."""
        store = cls()
        builder = TreeBuilder()
        for h in hashes:
            store.put_all(builder.append(h))
        return store

    def put(self, level: int, index: int, digest: bytes) -> None:
        self._nodes[(level, index)] = digest

    def put_all(self, nodes: Iterable[Node]) -> None:
        for level, index, digest in nodes:
            self.put(level, index, digest)

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self._nodes[(level, index)]


def _check_hash(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")
    return value


def _check_size(size: int, what: str = "size") -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"{what} must be a non-negative int, not {size!r}")


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n >= 2``): RFC 6962's k."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_decomposition(start: int, n: int) -> list[tuple[int, int]]:
    """Coordinates of the perfect nodes that make up leaves ``[start, start + n)``.

    Valid only for ranges the RFC 6962 recursion produces, where ``start`` is a
    multiple of the smallest power of two ``>= n``; then the range splits into
    one aligned perfect subtree per set bit of ``n``, largest (leftmost) first.
    """
    coords: list[tuple[int, int]] = []
    for level in range(n.bit_length() - 1, -1, -1):
        if n >> level & 1:
            coords.append((level, start >> level))
            start += 1 << level
    return coords


def frontier_coordinates(size: int) -> list[tuple[int, int]]:
    """``(level, index)`` of the perfect nodes covering the first ``size`` leaves.

    These are the only nodes needed to compute the root of size ``size`` or to
    resume appending to it (see :meth:`TreeBuilder.from_frontier`).
    """
    _check_size(size)
    return perfect_decomposition(0, size)


def _read(reader: NodeReader, level: int, index: int) -> bytes:
    digest = reader.node(level, index)
    if not isinstance(digest, bytes) or len(digest) != HASH_SIZE:
        raise ValueError(f"stored node ({level}, {index}) is not a {HASH_SIZE}-byte hash")
    return digest


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Combine a left-to-right decomposition into the RFC 6962 MTH of its range.

    MTH(D[0:n]) = H(MTH(D[0:k]), MTH(D[k:n])) with the left part the biggest
    perfect subtree, so the fold runs from the right.
    """
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _subtree_hash(start: int, n: int, reader: NodeReader) -> bytes:
    """MTH(D[start:start + n]) from at most ``log2(n) + 1`` stored nodes."""
    return _fold([_read(reader, level, index) for level, index in perfect_decomposition(start, n)])


def root_at(size: int, reader: NodeReader) -> bytes:
    """RFC 6962 MTH of the first ``size`` leaves, reading one node per set bit of ``size``."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _subtree_hash(0, size, reader)


class TreeBuilder:
    """An append-only tree held as its *frontier* (a compact range).

    Invariant: ``_frontier`` holds the hashes of the perfect nodes
    ``frontier_coordinates(size)``, largest first; that is at most
    ``log2(size) + 1`` hashes, and together they determine the root. Appending
    a leaf merges equal-sized neighbours, like a binary counter's carry.
    """

    def __init__(self) -> None:
        self._size = 0
        self._frontier: list[bytes] = []

    @classmethod
    def from_frontier(cls, size: int, reader: NodeReader) -> TreeBuilder:
        """Resume a tree of ``size`` leaves from its stored frontier nodes."""
        builder = cls()
        builder._frontier = [_read(reader, lv, ix) for lv, ix in frontier_coordinates(size)]
        builder._size = size
        return builder

    @property
    def size(self) -> int:
        return self._size

    def frontier(self) -> list[Node]:
        """The frontier as ``(level, index, hash)``, largest node first."""
        coords = perfect_decomposition(0, self._size)
        return [(lv, ix, h) for (lv, ix), h in zip(coords, self._frontier, strict=True)]

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Append one leaf *hash*; return every perfect node completed by it.

        The list starts with the leaf itself (level 0) and continues upwards, so
        storing all returned nodes keeps a :class:`NodeReader` complete.
        """
        digest = _check_hash(leaf_hash, "leaf hash")
        index = self._size
        completed: list[Node] = [(0, index, digest)]
        level = 0
        # Each trailing 1-bit of the old size is a pending node of the same
        # size as the one just completed, sitting directly to its left.
        while index >> level & 1:
            digest = node_hash(self._frontier.pop(), digest)
            level += 1
            completed.append((level, index >> level, digest))
        self._frontier.append(digest)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """RFC 6962 MTH of all appended leaves."""
        if not self._frontier:
            return EMPTY_ROOT
        return _fold(self._frontier)


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """RFC 6962 §2.1.1 audit path PATH(index, D[0:size]), leaf-side first.

    Walking down from the root: if the leaf is left of the split ``k`` the
    sibling is the (possibly imperfect) right part, otherwise the perfect left
    part. Once we go left the remaining range is perfect, so at most one
    sibling is imperfect and the whole proof costs ``O(log size)`` reads.
    """
    _check_size(size)
    _check_size(index, "index")
    if index >= size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            path.append(_subtree_hash(start + k, n - k, reader))
            n = k
        else:
            path.append(_read(reader, k.bit_length() - 1, start // k))
            start, m, n = start + k, m - k, n - k
    # Collected root-side first; RFC 6962 lists the path from the leaf upwards.
    path.reverse()
    return path


def consistency_proof(size1: int, size2: int, reader: NodeReader) -> list[bytes]:
    """RFC 6962 §2.1.2 consistency proof PROOF(size1, D[0:size2]) via SUBPROOF.

    Empty when ``size1`` is 0 or equals ``size2`` (nothing to prove). Like
    :func:`inclusion_proof`, only the first left turn can meet an imperfect
    sibling, so it costs ``O(log size2)`` reads.
    """
    _check_size(size1, "size1")
    _check_size(size2, "size2")
    if size1 > size2:
        raise ValueError(f"size1 {size1} is larger than size2 {size2}")
    if size1 == 0 or size1 == size2:
        return []
    proof: list[bytes] = []
    start, n, m = 0, size2, size1
    whole_old_tree = True  # SUBPROOF's flag b: still on the old tree's own root
    while m != n:
        k = _split(n)
        if m <= k:
            proof.append(_subtree_hash(start + k, n - k, reader))
            n = k
        else:
            proof.append(_read(reader, k.bit_length() - 1, start // k))
            start, m, n = start + k, m - k, n - k
            whole_old_tree = False
    if not whole_old_tree:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}: here always a perfect node,
        # since m == n can only be reached by a left turn onto a power of two.
        proof.append(_read(reader, n.bit_length() - 1, start // n))
    proof.reverse()
    return proof


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_proof(proof: object) -> bool:
    return isinstance(proof, list | tuple) and all(_is_hash(p) for p in proof)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show ``leaf_hash`` at ``index`` under ``root``?

    Returns ``False`` (never raises) for any malformed input: a wrong-length
    proof, hashes that are not 32 bytes, ``index >= size``, negative numbers.
    Note that, as in the RFC, the proof binds ``root`` and ``index`` but only
    the *shape* of ``size``: always take ``size`` and ``root`` from the same
    signed checkpoint.
    """
    if not (_is_size(index) and _is_size(size) and index < size):
        return False
    if not (_is_hash(leaf_hash) and _is_hash(root) and _is_proof(proof)):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False  # proof longer than the path
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Skip the levels where this node has no right sibling.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``(size2, root2)`` an append-only extension of ``(size1, root1)``?

    Returns ``False`` (never raises) for malformed input, ``size1 > size2``,
    or a wrong-length proof. Edge cases follow RFC 9162 and are strict:
    ``size1 == size2`` needs an empty proof and equal roots, and ``size1 == 0``
    needs an empty proof and ``root1`` equal to the empty-tree root.
    """
    if not (_is_size(size1) and _is_size(size2) and size1 <= size2):
        return False
    if not (_is_hash(root1) and _is_hash(root2) and _is_proof(proof)):
        return False
    if size1 == 0:
        return not proof and hmac.compare_digest(root1, EMPTY_ROOT)
    if size1 == size2:
        return not proof and hmac.compare_digest(root1, root2)
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        # The old tree is a perfect subtree of the new one and its root is
        # omitted from the proof, since the verifier already has it.
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False  # proof longer than needed
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, root1) and hmac.compare_digest(sr, root2)
