"""Review into the bank (入库): submit a version, approve or return it, batch approval, and
the object policy saying who may review which version.

    draft ──submit──► submitted ──approve──► approved (the item's active version; the previous
      ▲                   │                  approved version becomes superseded)
      └──(new edit)── returned ◄──return──┘

A reviewer never decides on a version they wrote. When the organisation requires two approvals,
a version stays submitted until two different reviewers have approved it. Every transition
records one audit event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from examsys import audit, clock, signals
from examsys.accounts.models import Organisation
from examsys.audit.actions import AuditAction
from examsys.bank import qtypes, similarity
from examsys.bank.checks import REVIEW_FIELDS, raise_problems, readiness_problems
from examsys.bank.items import actor, sync_item
from examsys.bank.models import (
    FaultReport,
    Item,
    ItemStatus,
    ItemVersion,
    Review,
    ReviewDecision,
    VersionStatus,
)
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import deny, may_approve, may_review_any, may_write_items


@dataclass(frozen=True)
class SimilarWarning:
    item: Item
    score: float

    def __str__(self) -> str:
        excerpt = self.item.search_text[:40] + ("…" if len(self.item.search_text) > 40 else "")
        return f"与已有试题 #{self.item.id} 相似（相似度 {self.score:.0%}）：{excerpt}"


def similar_to(version: ItemVersion, *, limit: int = 5) -> list[SimilarWarning]:
    """The bank's items closest to `version` (near-duplicates), for writer and reviewer."""
    text = qtypes.get(version.qtype).plain_text(version.content)
    return [SimilarWarning(item, score) for item, score in
            similarity.similar_items(version.item.organisation_id, text,
                                     exclude_item_id=version.item_id, limit=limit)]


# --- transitions -------------------------------------------------------------------------------


def submit(author, version: ItemVersion) -> list[SimilarWarning]:
    """Submit a draft or returned version for review; returns near-duplicate warnings (they do
    not block). Raises PermissionDenied, Conflict (not the latest version, or not draft/returned,
    or the item is retired), ValidationError listing every problem as "field: message"."""
    item = version.item
    may_write_items(author, item.organisation_id).enforce()
    if item.status == ItemStatus.RETIRED:
        raise Conflict("该试题已停用，不能提交审核")
    if item.latest_version_id != version.id:
        raise Conflict("只能提交试题的最新版本")
    if version.status not in (VersionStatus.DRAFT, VersionStatus.RETURNED):
        raise Conflict("该版本不是草稿或退回状态，不能提交")
    raise_problems(readiness_problems(version.qtype, version.content, version.point_id,
                                      version.levels, version.points))
    warnings = similar_to(version)
    now = clock.now()
    previous = version.status
    version.status = VersionStatus.SUBMITTED
    version.submitted_at = now
    if item.active_version_id is None:
        item.status = ItemStatus.SUBMITTED
    item.updated_at = now
    db.session.flush()
    audit.record(AuditAction.ITEM_VERSION_SUBMITTED, obj=version, organisation_id=item.organisation_id,
                 context=actor(author),
                 data={"item_id": item.id, "number": version.number, "from": previous.value,
                       "similar": [{"item_id": w.item.id, "score": w.score} for w in warnings]})
    return warnings


def approve(reviewer, version: ItemVersion, *, comment: str = "", batch: bool = False) -> Review:
    """Approve a submitted version. It enters the bank (becomes the item's active version; the
    previous approved version is superseded; the revision flag and open fault reports are
    cleared) unless the organisation requires two approvals and this is the first.

    Raises what the policy `permissions.may_approve` refuses with: PermissionDenied (no
    ITEM_REVIEW, another organisation, own version) or Conflict (not submitted, or this reviewer
    already reviewed it), each with the rule's code."""
    may_approve(reviewer, version).enforce()
    item = version.item
    now = clock.now()
    review = Review(version=version, reviewer_id=reviewer.id, decision=ReviewDecision.APPROVE,
                    comment=(comment or "").strip(), field_comments=[], created_at=now)
    db.session.add(review)
    org = db.session.get(Organisation, item.organisation_id)
    # Only approvals since the latest submission count: a version returned and resubmitted
    # starts its review afresh.
    approvals = {r.reviewer_id for r in version.reviews if r.decision == ReviewDecision.APPROVE
                 and (version.submitted_at is None or r.created_at >= version.submitted_at)}
    needed = 2 if org.require_two_approvals else 1
    data = {"item_id": item.id, "number": version.number, "comment": review.comment,
            "approvals": len(approvals), "needed": needed, "batch": batch}
    if len(approvals) >= needed:
        superseded = item.active_version
        if superseded is not None:
            superseded.status = VersionStatus.SUPERSEDED
            superseded.decided_at = now
        version.status = VersionStatus.APPROVED
        version.decided_at = now
        item.active_version = version
        item.status = ItemStatus.APPROVED
        sync_item(item, version)
        if item.needs_revision:
            item.needs_revision = False
            item.revision_reason = None
            for report in db.session.scalars(select(FaultReport).where(
                    FaultReport.item_id == item.id, FaultReport.resolved_at.is_(None))):
                report.resolved_at = now
        item.updated_at = now
        data.update(final=True, superseded_version_id=superseded.id if superseded else None)
    else:
        data.update(final=False)
    db.session.flush()
    audit.record(AuditAction.ITEM_VERSION_APPROVED, obj=version, organisation_id=item.organisation_id,
                 context=actor(reviewer), data=data)
    if data["final"]:
        signals.item_version_approved.send(version)
    return review


def _field_comments(field_comments: Mapping[str, str] | Iterable[Mapping] | None) -> list[dict]:
    items = field_comments.items() if isinstance(field_comments, Mapping) else \
        ((fc.get("field"), fc.get("comment")) for fc in field_comments or [])
    out = []
    for field, comment in items:
        if field not in REVIEW_FIELDS:
            raise ValidationError(f"未知的字段：{field}", field="field_comments")
        if (comment or "").strip():
            out.append({"field": field, "comment": comment.strip()})
    return out


def return_version(reviewer, version: ItemVersion, *, comment: str = "",
                   field_comments: Mapping[str, str] | Iterable[Mapping] | None = None) -> Review:
    """Return a submitted version to its writer with a comment and/or comments per field
    (`{"stem": "...", ...}` or `[{"field", "comment"}]`).

    Raises PermissionDenied (policy), Conflict (not submitted, or already reviewed by this
    reviewer), ValidationError (no comment at all, unknown field)."""
    may_approve(reviewer, version).enforce()
    comments = _field_comments(field_comments)
    comment = (comment or "").strip()
    if not comment and not comments:
        raise ValidationError("退回时请填写审核意见", field="comment")
    item = version.item
    now = clock.now()
    review = Review(version=version, reviewer_id=reviewer.id, decision=ReviewDecision.RETURN,
                    comment=comment, field_comments=comments, created_at=now)
    db.session.add(review)
    version.status = VersionStatus.RETURNED
    version.decided_at = now
    if item.active_version_id is None:
        item.status = ItemStatus.RETURNED
    item.updated_at = now
    db.session.flush()
    audit.record(AuditAction.ITEM_VERSION_RETURNED, obj=version, organisation_id=item.organisation_id,
                 context=actor(reviewer),
                 data={"item_id": item.id, "number": version.number, "comment": comment,
                       "field_comments": comments})
    return review


def batch_approve(reviewer, versions: list[ItemVersion], *, comment: str = "") -> list[Review]:
    """Approve many versions with one comment, all or nothing: every version is checked first,
    and if any may not be approved nothing is, and the error lists each failing version.

    Raises ValidationError (details["failures"]: [{"version_id", "item_id", "code", "message"}]) when any
    version fails, or PermissionDenied when the reviewer lacks ITEM_REVIEW altogether."""
    may_review_any(reviewer).enforce()
    if not versions:
        raise ValidationError("请选择要审核的试题", field="versions")
    failures, seen = [], set()
    for version in versions:
        decision = deny("review.duplicate", "重复选择了同一版本") if version.id in seen \
            else may_approve(reviewer, version)
        seen.add(version.id)
        if not decision:
            failures.append({"version_id": version.id, "item_id": version.item_id, "code": decision.code,
                             "message": decision.message})
    if failures:
        lines = [f"试题 #{f['item_id']}（版本 {f['version_id']}）：{f['message']}" for f in failures]
        raise ValidationError("批量审核未执行，以下试题不能通过：\n" + "\n".join(lines),
                              details={"failures": failures})
    # The checks above make a failure here unlikely; the savepoint still guarantees that a
    # failure midway (e.g. a concurrent change) leaves none of the batch approved.
    with db.session.begin_nested():
        return [approve(reviewer, v, comment=comment, batch=True) for v in versions]
