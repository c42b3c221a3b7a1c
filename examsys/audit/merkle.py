"""Merkle trees with RFC 6962 hashing (as restated in RFC 9162 §2.1): a leaf is SHA-256(0x00 ||
data), an inner node SHA-256(0x01 || left || right), and a tree of n leaves splits at the
largest power of two below n. Used for a closed batch's events (one event can be proven to
belong to the batch without handing over the rest) and for a checkpoint's scope heads.

`inclusion_proof` is the audit path PATH(m, D[n]) of RFC 6962 §2.1.1; `verify_inclusion`
follows the verification algorithm of RFC 9162 §2.1.3.2. Written here because no maintained
Python package implements these RFC algorithms; tests check them against the RFC's definition
(a direct recursive MTH) for every size and index up to 70."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaves given by their leaf hashes; bottom-up, so deep trees need no recursion:
    pairing left to right and carrying an odd last node up gives the same tree as RFC 6962's
    split at the largest power of two."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the leaf data."""
    return root_of_hashes([leaf_hash(d) for d in leaves])


def inclusion_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the given leaf hashes."""
    n = len(hashes)
    if not 0 <= index < n:
        raise IndexError("leaf index outside the tree")
    path: list[bytes] = []
    lo, hi = 0, n
    # Walk down from the root, remembering the sibling subtree roots (top first), then reverse.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(root_of_hashes(hashes[lo + k:hi]))
            hi = lo + k
        else:
            path.append(root_of_hashes(hashes[lo:lo + k]))
            lo = lo + k
    path.reverse()
    return path


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `leaf` (the leaf's data) sit at `index` of the tree of `size`
    leaves whose root is `expected_root`?"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in path:
        if sn == 0:
            return False
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
    return sn == 0 and r == expected_root


__all__ = ["EMPTY_ROOT", "inclusion_proof", "leaf_hash", "node_hash", "root", "root_of_hashes",
           "verify_inclusion"]
