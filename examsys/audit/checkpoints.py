"""Checkpoints of the process record: every chain's size and head hash at one moment, signed by
an organisation's Ed25519 key as a C2SP signed note (examsys.audit.signing), for whoever
receives it to keep outside the database. Verified against one later, it proves that nothing
taken before it was removed or rewritten: not a truncated tail, not a restored older database.

The note's text, in the C2SP checkpoint layout (origin, size, root hash, then extension lines):

    examsys/<ORG CODE>
    <number of chains>
    <base64 of the RFC 6962 Merkle root over the chain lines below>
    time <UTC, canonical>
    <scope> <size> <head entry_hash hex>      one line per chain, sorted by scope

An organisation's checkpoint covers its own chain, its batches' chains and their attempts'
chains; the authority's (no --org) covers every chain and is signed with its key.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from examsys import clock
from examsys.accounts.models import Organisation, OrgKind
from examsys.audit import chain, merkle, signing
from examsys.audit.models import AuditEvent
from examsys.audit.verify import Failure
from examsys.delivery.models import Attempt, Batch, RosterEntry
from examsys.errors import NotFound, ValidationError
from examsys.extensions import db

ORIGIN_PREFIX = "examsys/"


@dataclass
class Checkpoint:
    org_code: str
    taken_at: str
    heads: dict[str, tuple[int, str]]


def organisation_scopes(org: Organisation) -> list[str]:
    batch_ids = list(db.session.scalars(select(Batch.id).where(Batch.organisation_id == org.id)))
    attempt_ids = list(db.session.scalars(select(Attempt.id).where(Attempt.batch_id.in_(batch_ids or [-1]))))
    entry_ids = list(db.session.scalars(select(RosterEntry.id).where(RosterEntry.batch_id.in_(batch_ids or [-1]))))
    return [chain.org_scope(org.id), *(chain.batch_scope(b) for b in batch_ids),
            *(chain.attempt_scope(a) for a in attempt_ids), *(chain.entry_scope(e) for e in entry_ids)]


def current_heads(scopes: list[str] | None = None) -> dict[str, tuple[int, str]]:
    """Each chain's (size, head hash) as stored now."""
    sizes = select(AuditEvent.scope, func.max(AuditEvent.seq).label("size")).group_by(AuditEvent.scope)
    if scopes is not None:
        sizes = sizes.where(AuditEvent.scope.in_(scopes or [""]))
    sizes = sizes.subquery()
    rows = db.session.execute(select(AuditEvent.scope, AuditEvent.seq, AuditEvent.entry_hash).join(
        sizes, (AuditEvent.scope == sizes.c.scope) & (AuditEvent.seq == sizes.c.size)))
    return {scope: (seq, head) for scope, seq, head in rows}


def _line(scope: str, size: int, head: str) -> str:
    return f"{scope} {size} {head}"


def _root(heads: dict[str, tuple[int, str]]) -> str:
    lines = [_line(s, n, h).encode() for s, (n, h) in sorted(heads.items())]
    return base64.b64encode(merkle.root(lines)).decode()


def signer_of(org_code: str | None) -> Organisation:
    """The organisation whose key signs: the given one, else the authority."""
    if org_code:
        org = db.session.scalar(select(Organisation).where(Organisation.code == org_code))
        if org is None:
            raise NotFound(f"机构代码 {org_code} 不存在")
        return org
    org = db.session.scalar(select(Organisation).where(Organisation.kind == OrgKind.AUTHORITY)
                            .order_by(Organisation.id).limit(1))
    if org is None:
        raise NotFound("没有省级主管部门机构，无法签署全省检查点；请用 --org 指定机构")
    return org


def take(org_code: str | None = None, *, now: datetime | None = None) -> str:
    """A signed checkpoint note of the organisation's chains (all chains without `org_code`)."""
    signer = signer_of(org_code)
    heads = current_heads(organisation_scopes(signer) if org_code else None)
    lines = [f"{ORIGIN_PREFIX}{signer.code}", str(len(heads)), _root(heads),
             f"time {chain.iso_utc(now or clock.now())}", *(_line(s, n, h) for s, (n, h) in sorted(heads.items()))]
    return signing.sign_note("\n".join(lines) + "\n", signer.code)


def parse(note: str, verifier: str | None = None) -> Checkpoint:
    """Check the note's signature (with `verifier`, else the local key of the organisation it
    names) and its root; raises ValidationError saying what is wrong."""
    origin = note.split("\n", 1)[0]
    if not origin.startswith(ORIGIN_PREFIX):
        raise ValidationError("不是 examsys 的检查点文件（第一行应为 examsys/机构代码）", field="checkpoint")
    org_code = origin[len(ORIGIN_PREFIX):]
    try:
        text = signing.open_note(note, verifier or signing.public_verifier_key(org_code))
    except (signing.NoteError, ValueError) as exc:
        raise ValidationError(f"检查点签名校验失败：{exc}", field="checkpoint") from None
    lines = text.rstrip("\n").split("\n")
    try:
        count = int(lines[1])
        taken_at = lines[3].removeprefix("time ")
        heads = {}
        for line in lines[4:]:
            scope, size, head = line.split(" ")
            heads[scope] = (int(size), head)
    except (IndexError, ValueError):
        raise ValidationError("检查点内容格式不正确", field="checkpoint") from None
    if count != len(heads) or _root(heads) != lines[2]:
        raise ValidationError("检查点的根哈希与其列出的链不符", field="checkpoint")
    return Checkpoint(org_code=org_code, taken_at=taken_at, heads=heads)


def compare(checkpoint: Checkpoint, heads_now: dict[str, tuple[int, str]],
            link_at: dict[tuple[str, int], str], scopes: set[str] | None = None) -> list[Failure]:
    """What the database lacks against the checkpoint: chains shorter than they were, or whose
    link at the checkpoint's size has another hash. `link_at`: (scope, seq) → stored hash."""
    failures = []
    for scope, (size, head) in sorted(checkpoint.heads.items()):
        if scopes is not None and scope not in scopes:
            continue
        have = heads_now.get(scope, (0, chain.GENESIS))[0]
        if have < size:
            failures.append(Failure(scope, have + 1, None,
                                    f"检查点（{checkpoint.taken_at}）时此链有 {size} 条，数据库中只有 {have} 条："
                                    "尾部被截断，或数据库被恢复到了旧的备份"))
        elif link_at.get((scope, size)) != head:
            failures.append(Failure(scope, size, None,
                                    f"第 {size} 条的哈希与检查点（{checkpoint.taken_at}）记录的不同：此后历史被改写"))
    return failures


def links_at(checkpoint: Checkpoint) -> dict[tuple[str, int], str]:
    """The stored hash at each (scope, size) the checkpoint names."""
    pairs = list(checkpoint.heads.items())
    found: dict[tuple[str, int], str] = {}
    for i in range(0, len(pairs), 500):
        chunk = pairs[i:i + 500]
        conditions = [(AuditEvent.scope == s) & (AuditEvent.seq == n) for s, (n, _h) in chunk]
        stmt = select(AuditEvent.scope, AuditEvent.seq, AuditEvent.entry_hash).where(db.or_(*conditions))
        found.update({(s, n): h for s, n, h in db.session.execute(stmt)})
    return found


__all__ = ["Checkpoint", "compare", "current_heads", "links_at", "organisation_scopes", "parse", "signer_of", "take"]
