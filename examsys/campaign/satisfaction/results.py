"""A questionnaire's results: per question the counts and shares of each scale point or option
(for the bars), the free-text answers, the satisfied share and the split per organisation, as far
as the reader oversees; and the same as an xlsx workbook."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from examsys import clock
from examsys.accounts.models import Organisation, User
from examsys.campaign.satisfaction.models import (
    KIND_LABELS,
    MULTIPLE,
    SCALE,
    SCALE_LABELS,
    SINGLE,
    TEXT,
    Questionnaire,
    QuestionnaireQuestion,
    QuestionnaireResponse,
)
from examsys.extensions import db
from examsys.permissions import Role, oversees


@dataclass
class QuestionResult:
    question: QuestionnaireQuestion
    answered: int
    bars: list[tuple[str, int, float]] = field(default_factory=list)  # (label, count, share)
    texts: list[str] = field(default_factory=list)
    mean: float | None = None


@dataclass
class Results:
    questionnaire: Questionnaire
    responses: int
    satisfied: int
    rated: int  # responses with a scale answer
    questions: list[QuestionResult]
    by_organisation: list[tuple[Organisation, int, int, int]]  # (org, responses, satisfied, rated)


def responses_of(row: Questionnaire, organisation_ids: list[int] | None = None) -> list[QuestionnaireResponse]:
    query = select(QuestionnaireResponse).where(QuestionnaireResponse.questionnaire_id == row.id)
    if organisation_ids is not None:
        query = query.where(QuestionnaireResponse.organisation_id.in_(organisation_ids))
    return list(db.session.scalars(query.order_by(QuestionnaireResponse.submitted_at)))


def results(row: Questionnaire, organisation_ids: list[int] | None = None) -> Results:
    rows = responses_of(row, organisation_ids)
    out = []
    for q in row.questions:
        values = [r.answers[str(q.id)] for r in rows if str(q.id) in r.answers]
        result = QuestionResult(q, len(values))
        if q.kind == TEXT:
            result.texts = [str(v) for v in values]
        else:
            counts: Counter = Counter()
            for v in values:
                counts.update(v if isinstance(v, list) else [v])
            labels = list(SCALE_LABELS.items()) if q.kind == SCALE else list(enumerate(q.options))
            result.bars = [(f"{k} {label}" if q.kind == SCALE else label, counts[k],
                            counts[k] / len(values) if values else 0.0) for k, label in labels]
            if q.kind == SCALE and values:
                result.mean = sum(values) / len(values)
        out.append(result)
    per_org: dict[int, list[QuestionnaireResponse]] = {}
    for r in rows:
        per_org.setdefault(r.organisation_id, []).append(r)
    orgs = [(db.session.get(Organisation, oid), len(rs), sum(1 for r in rs if r.satisfied),
             sum(1 for r in rs if r.satisfied is not None)) for oid, rs in per_org.items()]
    return Results(row, len(rows), sum(1 for r in rows if r.satisfied), sum(1 for r in rows if r.satisfied is not None),
                   out, sorted(orgs, key=lambda t: t[0].code))


def results_for(user: User, row: Questionnaire) -> Results:
    """Results as far as `user` oversees: the province all, a city administrator its city's
    organisations."""
    if user.has_role(Role.PROVINCIAL_ADMIN):
        return results(row)
    ids = [d.batch.organisation_id for d in row.distributions if oversees(user, d.organisation)]
    ids += [o for o in {r.organisation_id for r in responses_of(row)}
            if oversees(user, db.session.get(Organisation, o))]
    return results(row, sorted(set(ids)))


def export_xlsx(result: Results) -> bytes:
    """The results as a workbook: a summary sheet per question and one row per response."""
    from openpyxl import Workbook  # heavy: only exports need it

    book = Workbook()
    sheet = book.active
    sheet.title = "汇总"
    sheet.append(["问卷", result.questionnaire.title])
    sheet.append(["答卷数", result.responses])
    sheet.append(["满意（量表题均分≥4）", result.satisfied, "参与满意度计算", result.rated])
    sheet.append([])
    sheet.append(["题号", "题型", "题目", "选项", "人数", "占比"])
    for qr in result.questions:
        q = qr.question
        if q.kind == TEXT:
            sheet.append([q.position, KIND_LABELS[q.kind], _cell(q.text), "（文字作答）", qr.answered, None])
        for label, n, share in qr.bars:
            sheet.append([q.position, KIND_LABELS[q.kind], _cell(q.text), _cell(label), n, round(share, 4)])
    answers = book.create_sheet("答卷")
    questions = result.questionnaire.questions
    answers.append(["提交时间", "机构", "批次", "是否满意"] + [f"第{q.position}题" for q in questions])
    for r in responses_of(result.questionnaire, [o.id for o, *_ in result.by_organisation]):
        when = clock.to_display(r.submitted_at).strftime("%Y-%m-%d %H:%M")
        sat = "—" if r.satisfied is None else ("是" if r.satisfied else "否")
        answers.append([when, _cell(r.organisation.name), _cell(r.batch.name), sat]
                       + [_cell(_shown(q, r.answers.get(str(q.id)))) for q in result.questionnaire.questions])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _shown(q: QuestionnaireQuestion, value) -> str:
    if value is None:
        return ""
    if q.kind == SCALE:
        return f"{value} {SCALE_LABELS.get(value, '')}"
    if q.kind == SINGLE:
        return q.options[value] if 0 <= value < len(q.options) else ""
    if q.kind == MULTIPLE:
        return "；".join(q.options[v] for v in value if 0 <= v < len(q.options))
    return str(value)


def _cell(value):
    """A text cell that a spreadsheet would read as a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


__all__ = ["QuestionResult", "Results", "export_xlsx", "responses_of", "results", "results_for"]
