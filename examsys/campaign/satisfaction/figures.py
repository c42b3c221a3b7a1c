"""The satisfaction count, in one place: which answers count, for which year and organisation.

What counts: every candidate's answer that says whether they were satisfied —
- the post-exam survey (满意度调查, `SurveyResponse.satisfied`: the mean of its five 1–5 answers
  is at least 4), and
- the authority's questionnaires (问卷调查) of candidates, when they hold scale questions
  (`QuestionnaireResponse.satisfied`: the mean of its 1–5 scale answers is at least 4); a
  questionnaire of choice and text questions only says nothing about satisfaction and is left out.
Each response counts once: a candidate who answered both the survey and a questionnaire speaks
twice, on two occasions. Interviews (个别访谈) are qualitative evidence and are not counted.

Which year: the response's batch sat in that year (its window opened in the year, Asia/Shanghai),
as for every indicator of the year; batches still only planned are left out. The monthly trend
places a response in the month it was given."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from examsys import clock
from examsys.campaign.satisfaction.models import QuestionnaireResponse
from examsys.delivery.models import Batch, BatchState
from examsys.delivery.models.survey import SurveyResponse
from examsys.extensions import db

GOAL = 0.9
SURVEY, QUESTIONNAIRE = "survey", "questionnaire"
SOURCE_LABELS = {SURVEY: "考后满意度调查", QUESTIONNAIRE: "问卷调查"}


@dataclass(frozen=True)
class Answer:
    """One counted response."""

    source: str
    response_id: int
    organisation_id: int
    batch_id: int
    satisfied: bool
    submitted_at: datetime

    @property
    def month(self) -> str:
        return clock.to_display(self.submitted_at).strftime("%Y-%m")


@dataclass(frozen=True)
class Count:
    hits: int
    total: int

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value >= GOAL

    @property
    def label(self) -> str:
        return "无数据" if self.value is None else f"{self.value:.1%}（{self.hits}/{self.total}）"


def count(answers: Iterable[Answer]) -> Count:
    rows = list(answers)
    return Count(sum(1 for a in rows if a.satisfied), len(rows))


def year_batches(year: int, organisation_ids: Iterable[int] | None = None) -> dict[int, Batch]:
    start = datetime(year, 1, 1, tzinfo=clock.DISPLAY_TZ)
    end = datetime(year + 1, 1, 1, tzinfo=clock.DISPLAY_TZ)
    query = select(Batch).where(Batch.window_start >= start, Batch.window_start < end,
                                Batch.state != BatchState.PLANNED)
    if organisation_ids is not None:
        query = query.where(Batch.organisation_id.in_(list(organisation_ids)))
    return {b.id: b for b in db.session.scalars(query)}


def answers(year: int, organisation_ids: Iterable[int] | None = None) -> list[Answer]:
    """Every counted response of the year's batches (of these organisations), oldest first."""
    batches = year_batches(year, organisation_ids)
    if not batches:
        return []
    ids = list(batches)
    out = [Answer(SURVEY, r.id, batches[r.batch_id].organisation_id, r.batch_id, r.satisfied, r.submitted_at)
           for r in db.session.scalars(select(SurveyResponse).where(SurveyResponse.batch_id.in_(ids)))]
    out += [Answer(QUESTIONNAIRE, r.id, batches[r.batch_id].organisation_id, r.batch_id, bool(r.satisfied),
                   r.submitted_at)
            for r in db.session.scalars(select(QuestionnaireResponse).where(
                QuestionnaireResponse.batch_id.in_(ids), QuestionnaireResponse.satisfied.is_not(None)))]
    return sorted(out, key=lambda a: (a.submitted_at, a.source, a.response_id))


def organisation_year(organisation_id: int, year: int) -> Count:
    """The satisfaction count of one organisation in one year (the supervision indicator's)."""
    return count(answers(year, [organisation_id]))


__all__ = ["Answer", "Count", "GOAL", "QUESTIONNAIRE", "SOURCE_LABELS", "SURVEY", "answers", "count",
           "organisation_year", "year_batches"]
