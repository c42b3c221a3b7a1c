"""A closed batch's Merkle tree and inclusion proofs: one event shown to belong to the batch's
record without handing over the rest.

The tree's leaves are the canonical forms (examsys.audit.verify.canonical_of) of every event of
the batch's chain and of its attempts' chains, in (scope, seq) order; its root is RFC 6962's.
A proof is a JSON object: the batch, the tree's size and root, the event (its stored fields,
so the receiver recomputes both its entry_hash and its leaf), its index and the audit path.
`check_proof` needs nothing but the proof (and the root the receiver trusts, e.g. from the
batch archive's signed manifest)."""

from __future__ import annotations

from dataclasses import dataclass

from examsys.audit import chain, merkle
from examsys.audit.verify import EventRow, batch_scopes, canonical_of, event_rows, row_as_dict, row_from_dict
from examsys.errors import NotFound


@dataclass
class BatchTree:
    batch_id: int
    size: int
    root: str  # hex
    event_ids: list[int]
    leaf_hashes: list[bytes]


def batch_tree(batch_id: int) -> BatchTree:
    ids, hashes = [], []
    for row in event_rows(batch_scopes(batch_id)):
        ids.append(row.id)
        hashes.append(merkle.leaf_hash(canonical_of(row)))
    return BatchTree(batch_id, len(ids), merkle.root_of_hashes(hashes).hex(), ids, hashes)


def prove(batch_id: int, event_id: int) -> dict:
    """The inclusion proof of event `event_id` in its batch's tree; NotFound if not in it."""
    tree = batch_tree(batch_id)
    try:
        index = tree.event_ids.index(event_id)
    except ValueError:
        raise NotFound(f"事件 {event_id} 不属于批次 {batch_id} 的过程记录") from None
    row = next(r for r in event_rows(batch_scopes(batch_id)) if r.id == event_id)
    return {"batch": batch_id, "size": tree.size, "root": tree.root, "index": index,
            "event": row_as_dict(row), "path": [p.hex() for p in merkle.inclusion_proof(tree.leaf_hashes, index)]}


def check_proof(proof: dict, trusted_root: str | None = None) -> tuple[bool, str]:
    """(holds, why): the event's own hash, then its path to the root (`trusted_root` if given,
    else the proof's own)."""
    try:
        row: EventRow = row_from_dict(proof["event"])
        path = [bytes.fromhex(p) for p in proof["path"]]
        root = bytes.fromhex(trusted_root or proof["root"])
        index, size = int(proof["index"]), int(proof["size"])
    except (KeyError, TypeError, ValueError):
        return False, "证明格式不正确"
    if chain.digest(canonical_of(row)) != row.entry_hash:
        return False, "事件内容与其哈希不符"
    if not merkle.verify_inclusion(canonical_of(row), index, size, path, root):
        return False, "事件不在该根哈希对应的记录中"
    return True, "事件属于该批次的过程记录"


__all__ = ["BatchTree", "batch_tree", "check_proof", "prove"]
