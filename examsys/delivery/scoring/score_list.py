"""The score list (成绩单) of a batch: every roster entry in ticket order with its attempt, result
and whether a correction was approved; the batch's corrections and 复核 records as listed on the
results page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from examsys.assembly.models import PaperForm
from examsys.delivery.models import (
    Attempt,
    AttemptStatus,
    Batch,
    CorrectionStatus,
    Result,
    ResultReview,
    RosterEntry,
    ScoreCorrection,
)
from examsys.extensions import db

__all__ = ["ScoreRow", "corrections", "form_label", "reviews", "score_list"]


@dataclass
class ScoreRow:
    entry: RosterEntry
    attempt: Attempt | None
    result: Result | None
    corrected: bool = False
    sections: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.entry.candidate.name

    @property
    def id_masked(self) -> str:
        return self.entry.candidate.id_number_masked

    @property
    def status_label(self) -> str:
        if self.attempt is None:
            return "缺考"
        if self.attempt.status == AttemptStatus.TERMINATED:
            return "违纪"
        if self.result is None:
            return "未出分"
        return "合格" if self.result.passed else "不合格"


def score_list(batch: Batch) -> list[ScoreRow]:
    """Every roster entry in ticket order with its attempt and result (absent ones too)."""
    entries = list(db.session.scalars(select(RosterEntry).where(RosterEntry.batch_id == batch.id)
                                      .options(selectinload(RosterEntry.candidate))
                                      .order_by(RosterEntry.ticket_no)))
    attempts = {a.roster_entry_id: a for a in db.session.scalars(select(Attempt).where(Attempt.batch_id == batch.id))}
    results = {r.attempt_id: r for r in db.session.scalars(select(Result).where(Result.batch_id == batch.id))}
    corrected = set(db.session.scalars(select(ScoreCorrection.attempt_id).join(Attempt).where(
        Attempt.batch_id == batch.id, ScoreCorrection.status == CorrectionStatus.APPROVED)))
    rows = []
    for e in entries:
        a = attempts.get(e.id)
        r = results.get(a.id) if a else None
        rows.append(ScoreRow(e, a, r, bool(a and a.id in corrected), r.section_scores if r else []))
    return rows


def corrections(batch: Batch) -> list[ScoreCorrection]:
    return list(db.session.scalars(select(ScoreCorrection).join(Attempt).where(Attempt.batch_id == batch.id)
                                   .options(selectinload(ScoreCorrection.attempt).selectinload(Attempt.roster_entry))
                                   .order_by(ScoreCorrection.requested_at, ScoreCorrection.id)))


def reviews(batch: Batch) -> list[ResultReview]:
    return list(db.session.scalars(select(ResultReview).where(ResultReview.batch_id == batch.id)
                                   .order_by(ResultReview.reviewed_at.desc(), ResultReview.id.desc())))


def form_label(attempt: Attempt) -> str:
    form = db.session.get(PaperForm, attempt.form_id)
    return form.label if form else ""
