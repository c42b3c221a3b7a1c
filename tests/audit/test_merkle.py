"""RFC 6962 Merkle trees: the root against the RFC's recursive definition, inclusion proofs for
every leaf of every small tree, and refusal of altered leaves, paths, indexes and sizes."""

import hashlib

import pytest

from examsys.audit import merkle


def mth(leaves):
    """MTH exactly as RFC 6962 §2.1 defines it."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def test_root_matches_the_rfc_definition_for_every_size():
    for n in range(0, 70):
        leaves = [f"event {i}".encode() for i in range(n)]
        assert merkle.root(leaves) == mth(leaves), n


def test_every_leaf_of_every_small_tree_proves_and_alterations_fail():
    for n in range(1, 70):
        leaves = [f"event {i}".encode() for i in range(n)]
        hashes = [merkle.leaf_hash(d) for d in leaves]
        root = merkle.root(leaves)
        for i in range(n):
            path = merkle.inclusion_proof(hashes, i)
            assert merkle.verify_inclusion(leaves[i], i, n, path, root)
            assert not merkle.verify_inclusion(leaves[i] + b"x", i, n, path, root)
            if n > 1:
                assert not merkle.verify_inclusion(leaves[i], (i + 1) % n, n, path, root)
                bad = [bytes(32)] + list(path[1:]) if path else path
                assert not merkle.verify_inclusion(leaves[i], i, n, bad, root)


def test_index_outside_the_tree_is_refused():
    with pytest.raises(IndexError):
        merkle.inclusion_proof([merkle.leaf_hash(b"a")], 1)
    assert not merkle.verify_inclusion(b"a", 1, 1, [], merkle.root([b"a"]))
