"""Statistics of marked batches: per form (items, the whole form, A-vs-B comparability), pooled
per item version across batches, and flags sent to the bank as fault reports.

Reads the scores as they stand: each item's final score with approved corrections applied
(a regrade after a key fix shows at once). A response that is blank counts as omitted. Only
batches whose marking is complete have statistics. `report_flags` is the one operation that
changes anything: it opens fault reports through the bank's own operation (source
"statistics"), which records them in the process record; it flushes only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from examsys import audit
from examsys.analysis import classical, irt
from examsys.analysis.estimates import IRT_MIN_CANDIDATES, STATS_STATES, estimated_level, response_matrix
from examsys.analysis.flags import Flag, FlagKind, item_flags
from examsys.assembly.models import PaperForm, PaperFormItem
from examsys.audit.actions import AuditAction
from examsys.audit.models import AnswerHistory
from examsys.bank import services as bank
from examsys.bank.models import ItemVersion
from examsys.delivery.models import (
    Attempt,
    Batch,
    CorrectionStatus,
    ItemScore,
    Response,
    ScoreCorrection,
)
from examsys.delivery.scoring import services as scoring
from examsys.errors import NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import may_handle_results

JUDGE_LABELS = ("正确", "错误")
COMPARABLE_D = 0.2   # standardised mean difference above which two forms are not comparable


@dataclass
class ItemRow:
    position: int
    section: int
    form_item: PaperFormItem
    version: ItemVersion
    max_points: float
    p: float
    omitted: float
    r: float | None
    d: float
    options: dict | None          # labels, key, shares per group (choice items)
    flags: list[Flag] = field(default_factory=list)
    irt: dict | None = None       # 2PL a, b and their standard errors, when data suffice
    median_seconds: float | None = None  # median time spent on it (answer history), None without saves


@dataclass
class FormReport:
    form: PaperForm
    stats: classical.FormStats
    pass_mark: float
    items: list[ItemRow]
    totals: np.ndarray

    @property
    def has_irt(self) -> bool:
        return any(i.irt for i in self.items)

    @property
    def flag_count(self) -> int:
        return sum(len(i.flags) for i in self.items)


def _num(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _choice_meta(version: ItemVersion):
    """(option labels, keyed label, answer → column) for single choice and judge items, else None."""
    content = version.content or {}
    if version.qtype == "single":
        labels = [o.get("label") for o in content.get("options") or []]
        return labels, content.get("key"), {label: c for c, label in enumerate(labels)}
    if version.qtype == "judge":
        key = content.get("key")
        return list(JUDGE_LABELS), (JUDGE_LABELS[0] if key is True else JUDGE_LABELS[1]), {True: 0, False: 1}
    return None


def _corrected(batch_id: int | None = None, attempt_ids: list[int] | None = None) -> dict[int, float]:
    """item score id → its latest approved corrected score (of a batch, or of some attempts)."""
    query = (select(ScoreCorrection.item_score_id, ScoreCorrection.corrected_score)
             .where(ScoreCorrection.status == CorrectionStatus.APPROVED, ScoreCorrection.item_score_id.is_not(None))
             .order_by(ScoreCorrection.decided_at, ScoreCorrection.id))
    if batch_id is not None:
        query = query.join(Attempt, Attempt.id == ScoreCorrection.attempt_id).where(Attempt.batch_id == batch_id)
    else:
        query = query.where(ScoreCorrection.attempt_id.in_(attempt_ids or []))
    return dict(db.session.execute(query).all())


def time_on_items(attempt_ids: list[int]) -> dict[int, list[float]]:
    """form item id → seconds each candidate spent on it, from the answer history.

    The delivery records saves, not page views, so a save's time is the gap since the same
    candidate's previous save (or the attempt's start), summed over that item's saves: the time
    the candidate spent before settling each answer. Only items with a save count."""
    if not attempt_ids:
        return {}
    started = dict(db.session.execute(select(Attempt.id, Attempt.started_at).where(Attempt.id.in_(attempt_ids))).all())
    rows = db.session.execute(
        select(AnswerHistory.attempt_id, AnswerHistory.form_item_id, AnswerHistory.saved_at)
        .where(AnswerHistory.attempt_id.in_(attempt_ids))
        .order_by(AnswerHistory.attempt_id, AnswerHistory.saved_at, AnswerHistory.id)).all()
    spent: dict[tuple[int, int], float] = {}
    last: dict[int, object] = {}
    for attempt_id, fi_id, saved_at in rows:
        before = last.get(attempt_id, started.get(attempt_id))
        if before is not None and saved_at is not None:
            gap = max(0.0, (saved_at - before).total_seconds())
            spent[(attempt_id, fi_id)] = spent.get((attempt_id, fi_id), 0.0) + gap
        last[attempt_id] = saved_at
    out: dict[int, list[float]] = {}
    for (_attempt_id, fi_id), seconds in spent.items():
        out.setdefault(fi_id, []).append(seconds)
    return out


def batch_statistics(batch: Batch, progress=None) -> list[FormReport]:
    """One report per form the batch's candidates sat. `progress(fraction, stage)`, if given, hears
    how far it got. Raises NotFound before marking is done."""
    if batch.state not in STATS_STATES:
        raise NotFound("阅卷完成后才有统计")
    corrected = _corrected(batch.id)
    scores = db.session.execute(
        select(ItemScore, Attempt.form_id).join(Attempt, Attempt.id == ItemScore.attempt_id)
        .where(ItemScore.batch_id == batch.id).order_by(ItemScore.attempt_id)).all()
    answers = {(r.attempt_id, r.form_item_id): r.answer for r in db.session.scalars(
        select(Response).join(Attempt, Attempt.id == Response.attempt_id).where(Attempt.batch_id == batch.id))}
    pass_mark = float(scoring.blueprint_snapshot(batch).get("pass_mark", 60))
    by_form: dict[int, list[ItemScore]] = {}
    for score, form_id in scores:
        by_form.setdefault(form_id, []).append(score)
    times = time_on_items(sorted({s.attempt_id for s, _form_id in scores}))
    reports = []
    for n, form_id in enumerate(sorted(by_form)):
        form = db.session.get(PaperForm, form_id)
        if progress is not None:
            progress(0.1 + 0.8 * n / len(by_form), f"{form.label} 卷")
        reports.append(_form_report(form, by_form[form_id], answers, corrected, pass_mark, times))
    return reports


def _form_report(form: PaperForm, scores: list[ItemScore], answers: dict, corrected: dict,
                 pass_mark: float, times: dict[int, list[float]] | None = None) -> FormReport:
    form_items = sorted(form.items, key=lambda fi: (fi.section, fi.position))
    column = {fi.id: j for j, fi in enumerate(form_items)}
    attempts = sorted({s.attempt_id for s in scores})
    row = {a: i for i, a in enumerate(attempts)}
    n, k = len(attempts), len(form_items)
    x = np.full((n, k), np.nan)
    maxima = np.array([float(fi.points) for fi in form_items])
    choices = np.full((n, k), -1, dtype=np.int64)
    versions: dict[int, ItemVersion] = {}
    for s in scores:
        j = column.get(s.form_item_id)
        if j is None:
            continue
        versions.setdefault(j, db.session.get(ItemVersion, s.item_version_id))
        answer = answers.get((s.attempt_id, s.form_item_id))
        if not scoring.is_blank(answer):
            x[row[s.attempt_id], j] = corrected.get(s.id, s.final_score or 0.0)
    metas = {j: _choice_meta(v) for j, v in versions.items()}
    for (attempt_id, fi_id), answer in answers.items():
        i, j = row.get(attempt_id), column.get(fi_id)
        if i is None or j is None or metas.get(j) is None:
            continue
        c = metas[j][2].get(answer) if isinstance(answer, str | bool) else None
        if c is not None:
            choices[i, j] = c
    item_stats = classical.item_statistics(x, maxima)
    form_stats = classical.form_statistics(x, maxima, pass_mark=pass_mark)
    totals = np.nan_to_num(x).sum(axis=1)
    width = max((len(m[0]) for m in metas.values() if m), default=0)
    shares = classical.option_shares(choices, [len(metas[j][0]) if metas.get(j) else width for j in range(k)],
                                     totals) if width else None
    options = []
    for j in range(k):
        meta = metas.get(j)
        if meta is None or shares is None:
            options.append(None)
            continue
        m = len(meta[0])
        options.append({"labels": meta[0], "key": meta[1],
                        **{g: [float(v) for v in shares[g][j][:m]] for g in ("all", "upper", "middle", "lower")},
                        "blank": float(shares["all"][j][-1])})
    flags = item_flags(n, item_stats.p, item_stats.r_pbis_corrected, item_stats.upper_lower, options=options)
    fitted = None
    if n >= IRT_MIN_CANDIDATES:
        try:
            fitted = irt.fit(x, maxima, model="2pl")
        except ValueError:
            fitted = None
    items = []
    for j, fi in enumerate(form_items):
        items.append(ItemRow(position=fi.position, section=fi.section, form_item=fi,
                             version=versions.get(j) or db.session.get(ItemVersion, fi.item_version_id),
                             max_points=float(fi.points), p=float(item_stats.p[j]),
                             omitted=float(item_stats.omitted[j]), r=_num(item_stats.r_pbis_corrected[j]),
                             d=float(item_stats.upper_lower[j]), options=options[j],
                             flags=[f for f in flags if f.item == j], irt=_irt_row(fitted, j),
                             median_seconds=_median((times or {}).get(fi.id))))
    return FormReport(form=form, stats=form_stats, pass_mark=pass_mark, items=items, totals=totals)


def _median(values: list[float] | None) -> float | None:
    return float(np.median(values)) if values else None


def _irt_row(fitted, j: int) -> dict | None:
    if fitted is None or math.isnan(fitted.b[j]):
        return None
    return {"a": float(fitted.a[j]), "b": float(fitted.b[j]), "se_a": _num(fitted.se_a[j]),
            "se_b": _num(fitted.se_b[j])}


def comparability(reports: list[FormReport]) -> list[dict]:
    """Each form against the first: mean difference and the standardised difference (pooled SD).
    Forms whose standardised difference exceeds COMPARABLE_D are marked not comparable."""
    if len(reports) < 2:
        return []
    base = reports[0]
    out = []
    for other in reports[1:]:
        a, b = base.totals, other.totals
        pooled = 0.0
        if a.size > 1 and b.size > 1:
            pooled = math.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2))
        diff = float(b.mean() - a.mean())
        d = diff / pooled if pooled > 0 else 0.0
        out.append({"base": base.form.label, "form": other.form.label, "mean_difference": diff,
                    "standardised": d, "comparable": abs(d) <= COMPARABLE_D})
    return out


def version_statistics(version: ItemVersion) -> dict | None:
    """Pooled over every marked batch that used this version: n, p, omitted, corrected r. The
    candidate's total is that of their own attempt (forms differ). None without data."""
    rows = db.session.execute(
        select(ItemScore.attempt_id, ItemScore.final_score, ItemScore.max_points, ItemScore.form_item_id,
               ItemScore.id)
        .join(Batch, Batch.id == ItemScore.batch_id)
        .where(ItemScore.item_version_id == version.id, Batch.state.in_(STATS_STATES))).all()
    if not rows:
        return None
    attempt_ids = [r.attempt_id for r in rows]
    corrected = _corrected(attempt_ids=attempt_ids)
    totals: dict[int, float] = {}
    for attempt_id, score, score_id in db.session.execute(
            select(ItemScore.attempt_id, ItemScore.final_score, ItemScore.id)
            .where(ItemScore.attempt_id.in_(attempt_ids))):
        totals[attempt_id] = totals.get(attempt_id, 0.0) + corrected.get(score_id, score or 0.0)
    answers = {(r.attempt_id, r.form_item_id): r.answer for r in db.session.scalars(
        select(Response).where(Response.attempt_id.in_(attempt_ids)))}
    x = np.array([corrected.get(r.id, r.final_score or 0.0) for r in rows])
    m = np.array([r.max_points for r in rows])
    rest = np.array([totals[r.attempt_id] for r in rows]) - x
    blank = np.array([scoring.is_blank(answers.get((r.attempt_id, r.form_item_id))) for r in rows])
    n = len(rows)
    r = float(np.corrcoef(x, rest)[0, 1]) if n > 2 and x.std() > 0 and rest.std() > 0 else None
    batches = db.session.scalar(select(db.func.count(db.distinct(ItemScore.batch_id)))
                                .where(ItemScore.item_version_id == version.id))
    return {"n": n, "batches": batches, "p": float((x / m).mean()), "omitted": float(blank.mean()), "r": r}


# Pooled IRT needs fewer candidates per parameter than a form's 2PL: Rasch has one per item.
POOLED_RASCH_MIN = 50


def pooled_irt(version: ItemVersion) -> dict | None:
    """Rasch and 2PL estimates of `version` from every marked batch that used it, calibrated
    together with the other items those candidates sat (concurrent calibration: an item a
    candidate was not shown carries no information, so forms and batches sharing items land on
    one scale, ability N(0, 1) over all of them). Scores enter as the share of the item's maximum.
    {"n", "items", "rasch": {"b", "se_b"} | None, "2pl": {"a", "b", "se_a", "se_b"} | None};
    None without data. Rasch from POOLED_RASCH_MIN candidates, 2PL from IRT_MIN_CANDIDATES."""
    attempt_ids = list(db.session.scalars(
        select(ItemScore.attempt_id).join(Batch, Batch.id == ItemScore.batch_id)
        .where(ItemScore.item_version_id == version.id, Batch.state.in_(STATS_STATES)).distinct()))
    if not attempt_ids:
        return None
    out = {"n": len(attempt_ids), "items": 0, "rasch": None, "2pl": None,
           "min_rasch": POOLED_RASCH_MIN, "min_2pl": IRT_MIN_CANDIDATES}
    if len(attempt_ids) < POOLED_RASCH_MIN:
        return out
    x, shown, col_of = response_matrix(attempt_ids)
    out["items"] = len(col_of)
    j = col_of[version.id]
    for model in ("rasch", "2pl"):
        if model == "2pl" and len(attempt_ids) < IRT_MIN_CANDIDATES:
            break
        try:
            fitted = irt.fit(x, model=model, presented=shown)
        except ValueError:
            continue
        if math.isnan(fitted.b[j]):
            continue
        out[model] = ({"b": float(fitted.b[j]), "se_b": _num(fitted.se_b[j])} if model == "rasch"
                      else _irt_row(fitted, j))
    return out


def item_evidence(item) -> list[dict]:
    """Per version of the item that marked batches used: the pooled figures, the difficulty level
    they suggest beside the declared one, and the batches (for the statistics and key pages)."""
    out = []
    for version in sorted(item.versions, key=lambda v: v.number):
        pooled = version_statistics(version)
        if pooled is None:
            continue
        used = db.session.execute(
            select(Batch, ItemScore.form_item_id).join(ItemScore, ItemScore.batch_id == Batch.id)
            .where(ItemScore.item_version_id == version.id, Batch.state.in_(STATS_STATES))
            .distinct().order_by(Batch.id)).all()
        out.append({"version": version, **pooled, "estimated_level": estimated_level(pooled["p"]),
                    "irt": pooled_irt(version),
                    "batches": [{"batch": b, "form_item_id": fi} for b, fi in used]})
    return out


def _flag_rows(batch: Batch, forms: list[dict] | None):
    """(form label, position, form item id, version id, [(kind, reason)]) per flagged item: from a
    stored snapshot of the statistics (the statistics job's), or computed now."""
    if forms is not None:
        for report in forms:
            for row in report["items"]:
                if row["flags"]:
                    yield (report["form"]["label"], row["position"], row["form_item"]["id"], row["version"]["id"],
                           [(FlagKind(f["kind"]), f["reason"]) for f in row["flags"]])
        return
    for report in batch_statistics(batch):
        for row in report.items:
            if row.flags:
                yield (report.form.label, row.position, row.form_item.id, row.version.id,
                       [(f.kind, f.reason()) for f in row.flags])


def report_flags(actor, batch: Batch, selected: list[tuple[int, str]], forms: list[dict] | None = None) -> int:
    """Open a fault report in the bank for each selected flag ((form item id, flag kind)), with its
    evidence as the reason. `forms` is the statistics as the page showed them (the statistics
    job's snapshot); without it they are computed now. A flag whose item already has an open
    report with the same reason is skipped. Returns how many reports were opened.

    Raises PermissionDenied (no RESULT_REVIEW on the batch), NotFound (no statistics yet) and
    ValidationError (nothing selected)."""
    may_handle_results(actor, batch).enforce()
    if not selected:
        raise ValidationError("请选择要报告的统计标记", field="flags")
    wanted = {(int(fi), FlagKind(kind)) for fi, kind in selected}
    opened = 0
    for label, position, fi_id, version_id, flags in _flag_rows(batch, forms):
        for kind, evidence in flags:
            if (fi_id, kind) not in wanted:
                continue
            item = db.session.get(ItemVersion, version_id).item
            reason = f"{batch.name} {label} 卷第 {position} 题 — {evidence}"
            if any(r.reason == reason for r in bank.open_fault_reports(item)):
                continue
            bank.report_fault(None, item, reason=reason, source="statistics")
            opened += 1
    audit.record(AuditAction.BATCH_STATISTICS_FLAGS_REPORTED, obj=batch,
                 data={"selected": len(wanted), "opened": opened})
    return opened
