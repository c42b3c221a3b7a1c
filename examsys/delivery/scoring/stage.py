"""Where a batch stands after its exam, for the pages that say what comes next: scored or not,
marking progress, results computed and by whom, the last 复核, open score review requests. Read
only; also who may do the 复核 (the same decision `results.review_batch` enforces), so that a page
can say why someone may not before they try."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from examsys.accounts.models import User, UserRole
from examsys.delivery.models import (
    Batch,
    ItemScore,
    Mark,
    Result,
    ResultReview,
    ScoreReviewRequest,
)
from examsys.delivery.scoring.marking import progress
from examsys.extensions import db
from examsys.permissions import Decision, Permission, Role, has_permission, may_review_results


@dataclass
class Stage:
    scored: bool  # objective items scored (score_batch ran)
    progress: dict  # marking counts, as marking.progress
    results: int  # computed results
    computed_by: frozenset[int]
    last_review: ResultReview | None
    open_requests: int  # score review requests not yet answered

    @property
    def marking_open(self) -> int:
        return self.progress["open_items"] - self.progress["done"]


def stage(batch: Batch) -> Stage:
    scored = db.session.scalar(select(ItemScore.id).where(ItemScore.batch_id == batch.id).limit(1)) is not None
    computed = set(db.session.scalars(select(Result.computed_by_id).where(Result.batch_id == batch.id).distinct()))
    count = db.session.scalar(select(func.count()).select_from(Result).where(Result.batch_id == batch.id)) or 0
    last = db.session.scalar(select(ResultReview).where(ResultReview.batch_id == batch.id)
                             .order_by(ResultReview.reviewed_at.desc(), ResultReview.id.desc()).limit(1))
    open_requests = db.session.scalar(select(func.count()).select_from(ScoreReviewRequest).where(
        ScoreReviewRequest.batch_id == batch.id, ScoreReviewRequest.answered_at.is_(None))) or 0
    return Stage(scored=scored, progress=progress(batch), results=count,
                 computed_by=frozenset(i for i in computed if i is not None), last_review=last,
                 open_requests=open_requests)


def _marked_in(batch: Batch, user_id: int) -> bool:
    return db.session.scalar(select(Mark.id).join(ItemScore).where(
        ItemScore.batch_id == batch.id, Mark.marker_id == user_id).limit(1)) is not None


def may_review(batch: Batch, user, current: Stage | None = None) -> Decision:
    """Whether `user` may do the batch's 复核 now (who they are, not the batch's state)."""
    current = current or stage(batch)
    return may_review_results(user, batch, computed_by=current.computed_by,
                              marked_in_batch=_marked_in(batch, user.id))


def second_persons(batch: Batch, current: Stage | None = None) -> list[User]:
    """Active users of the batch's organisation who may do its 复核 (for the page to name them)."""
    current = current or stage(batch)
    users = db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id).where(
        User.organisation_id == batch.organisation_id, User.active.is_(True), UserRole.role == Role.EXAM_ADMIN)
        .order_by(User.display_name).distinct())
    return [u for u in users if has_permission(u, Permission.RESULT_REVIEW)
            and may_review(batch, u, current).allowed]


__all__ = ["Stage", "may_review", "second_persons", "stage"]
