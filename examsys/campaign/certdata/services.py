"""Certificate data operations: running the check of a published batch, explaining a problem,
reporting (freezing the records), entering returns and re-reporting a returned record, what a
user may see, and the campaign targets `data_checked` and `return_rate`. Services flush; the
request (or the command) commits.

A problem is fixed at its source (a missing photo is uploaded on the candidate's page) and the
check is run again, which clears it; or it is explained by the organisation's administrator.
Reporting is refused while any problem is neither, and when the data changed after the check."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select

from examsys import audit, clock, crypto
from examsys.accounts import idnumber
from examsys.accounts.candidates import ID_PURPOSE
from examsys.accounts.models import Organisation
from examsys.audit.actions import AuditAction
from examsys.campaign.certdata import checks, rates
from examsys.campaign.certdata.models import (
    CertCheck,
    CertProblem,
    CertRecord,
    CertReport,
    CertReturn,
    ReturnReason,
)
from examsys.campaign.targets import Direction, Scope, Target, share
from examsys.delivery.models import Batch, Result
from examsys.errors import Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import (
    Role,
    may_enter_return,
    may_explain_problem,
    may_report_certdata,
    may_resubmit_record,
    may_view_certdata,
    oversees,
)
from examsys.standards.models import Standard

# --- what a user sees ---------------------------------------------------------------------------


def organisations_of(user) -> list[Organisation]:
    """The organisations whose certificate data `user` sees: their own, their city's, or all."""
    if user.has_role(Role.PROVINCIAL_ADMIN):
        return list(db.session.scalars(select(Organisation).order_by(Organisation.code)))
    if user.has_role(Role.CITY_ADMIN):
        return list(db.session.scalars(select(Organisation).where(
            Organisation.city_id == user.organisation.city_id).order_by(Organisation.code)))
    return [user.organisation]


def visible_scope(user, scope: Scope) -> Scope:
    """`scope` as `user` may see it: a city admin only their city, an organisation only itself.
    Raises NotFound for an organisation outside it."""
    if scope.organisation_id is not None:
        org = db.session.get(Organisation, scope.organisation_id)
        if org is None or not may_view_certdata(user, org):
            raise NotFound("未找到该机构")
        return Scope(organisation_id=org.id)
    if user.has_role(Role.PROVINCIAL_ADMIN):
        return scope
    if user.has_role(Role.CITY_ADMIN):
        return Scope(city_id=user.organisation.city_id)
    return Scope(organisation_id=user.organisation_id)


def published_batches(user) -> list[Batch]:
    """Published batches with results, of the organisations `user` sees, newest first."""
    ids = [o.id for o in organisations_of(user)]
    with_results = select(Result.batch_id).where(Result.batch_id == Batch.id).exists()
    return [b for b in db.session.scalars(select(Batch).where(Batch.organisation_id.in_(ids), with_results)
                                          .order_by(Batch.window_start.desc())) if checks.is_published(b)]


def batch_for(user, batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None or not may_view_certdata(user, batch_organisation(batch)):
        raise NotFound("未找到该批次")
    return batch


def batch_organisation(batch: Batch) -> Organisation:
    return db.session.get(Organisation, batch.organisation_id)


def report_of(batch: Batch) -> CertReport | None:
    return db.session.scalar(select(CertReport).where(CertReport.batch_id == batch.id))


def report_for(user, report_id: int) -> CertReport:
    report = db.session.get(CertReport, report_id)
    if report is None or not may_view_certdata(user, report.organisation):
        raise NotFound("未找到该上报记录")
    return report


def check_of(batch: Batch) -> CertCheck | None:
    return db.session.scalar(select(CertCheck).where(CertCheck.batch_id == batch.id))


def problems_of(batch: Batch, *, current: bool = True) -> list[CertProblem]:
    stmt = select(CertProblem).where(CertProblem.batch_id == batch.id)
    if current:
        stmt = stmt.where(CertProblem.cleared_at.is_(None))
    return list(db.session.scalars(stmt.order_by(CertProblem.roster_entry_id, CertProblem.kind)))


def reports_of(user, scope: Scope = Scope()) -> list[CertReport]:
    scope = visible_scope(user, scope)
    stmt = select(CertReport).order_by(CertReport.reported_at.desc())
    if scope.organisation_id is not None:
        stmt = stmt.where(CertReport.organisation_id == scope.organisation_id)
    elif scope.city_id is not None:
        stmt = stmt.where(CertReport.city_id == scope.city_id)
    return list(db.session.scalars(stmt))


# --- the check ---------------------------------------------------------------------------------


def _require_reportable(batch: Batch) -> None:
    if not checks.is_published(batch):
        raise Conflict(f"批次状态为“{batch.state_label}”，成绩发布后才能检查和上报证书数据")
    if report_of(batch) is not None:
        raise Conflict("本批次的证书数据已上报，不能再次检查；被退回的记录请在上报记录中修正后重新上报")


def run_check(actor, batch: Batch) -> CertCheck:
    """Check every record of `batch` and store what was found: problems no longer found are
    cleared, problems still found keep their explanation. Raises PermissionDenied, Conflict."""
    may_report_certdata(actor, batch_organisation(batch)).enforce()
    _require_reportable(batch)
    now = clock.now()
    found = checks.check(batch)
    existing = {(p.roster_entry_id, p.kind): p for p in problems_of(batch)}
    keys = set()
    for s in found:
        for kind, message in s.problems.items():
            keys.add((s.entry.id, str(kind)))
            row = existing.get((s.entry.id, str(kind)))
            if row is None:
                db.session.add(CertProblem(batch_id=batch.id, roster_entry_id=s.entry.id,
                                           organisation_id=batch.organisation_id, kind=str(kind), message=message,
                                           found_at=now))
            elif row.message != message:
                row.message = message
    for key, row in existing.items():
        if key not in keys:
            row.cleared_at = now
    row = check_of(batch) or CertCheck(batch_id=batch.id, organisation_id=batch.organisation_id)
    row.checked_at, row.checked_by_id = now, actor.id if actor else None
    row.records, row.entries = len(found), sorted(s.entry.id for s in found)
    db.session.add(row)
    db.session.flush()
    open_ = [p for p in problems_of(batch) if p.is_open]
    audit.record(AuditAction.CERT_CHECK_PERFORMED, obj=row, data={
        "batch_id": batch.id, "records": len(found), "problems": len(keys), "open": len(open_)})
    return row


def explain(actor, problem: CertProblem, text: str) -> CertProblem:
    """The organisation's administrator says why the data is right as it is. Raises
    PermissionDenied, ValidationError (no text), Conflict (cleared, explained or reported)."""
    org = db.session.get(Organisation, problem.organisation_id)
    may_explain_problem(actor, org).enforce()
    text = (text or "").strip()
    if not text:
        raise ValidationError("说明：请写明该数据无误的理由", field="explanation")
    if problem.cleared_at is not None or problem.explanation is not None:
        raise Conflict("该问题已修正或已说明")
    if report_of(db.session.get(Batch, problem.batch_id)) is not None:
        raise Conflict("本批次的证书数据已上报")
    problem.explanation, problem.explained_by_id, problem.explained_at = text, actor.id, clock.now()
    db.session.flush()
    audit.record(AuditAction.CERT_PROBLEM_EXPLAINED, obj=problem, data={
        "batch_id": problem.batch_id, "kind": problem.kind, "explanation": text})
    return problem


def problem_for(user, problem_id: int) -> CertProblem:
    problem = db.session.get(CertProblem, problem_id)
    if problem is None or not may_view_certdata(user, db.session.get(Organisation, problem.organisation_id)):
        raise NotFound("未找到该问题")
    return problem


# --- reporting ----------------------------------------------------------------------------------


def blockers(batch: Batch) -> list[str]:
    """Why `batch` cannot be reported now, in Chinese (empty: it can)."""
    check = check_of(batch)
    if check is None:
        return ["尚未进行数据检查，请先运行检查"]
    open_ = [p for p in problems_of(batch) if p.is_open]
    out = []
    if open_:
        out.append(f"仍有 {len(open_)} 个问题未修正或未说明，全部修正（重新检查）或说明后才能上报")
    return out


def report(actor, batch: Batch) -> CertReport:
    """Freeze the checked records of `batch` as its report. Raises PermissionDenied and Conflict
    (not published, already reported, not checked, data changed since the check, open problems,
    no passed candidate)."""
    org = batch_organisation(batch)
    may_report_certdata(actor, org).enforce()
    _require_reportable(batch)
    reasons = blockers(batch)
    if reasons:
        raise Conflict("不能上报：" + "；".join(reasons))
    check = check_of(batch)
    found = checks.check(batch)
    stored = {(p.roster_entry_id, p.kind) for p in problems_of(batch)}
    now_found = {(s.entry.id, str(k)) for s in found for k in s.problems}
    if sorted(s.entry.id for s in found) != sorted(check.entries) or not now_found <= stored:
        raise Conflict("检查之后数据有变化，请重新检查后再上报")
    if not found:
        raise Conflict("本批次没有合格考生，无需上报证书数据")
    explained: dict[int, list] = {}
    for p in problems_of(batch):
        explained.setdefault(p.roster_entry_id, []).append({"field": p.field_label, "message": p.message,
                                                            "explanation": p.explanation})
    standard = db.session.get(Standard, batch.standard_id)
    now = clock.now()
    row = CertReport(batch_id=batch.id, organisation_id=org.id, city_id=org.city_id, reported_at=now,
                     reported_by_id=actor.id, checked_at=check.checked_at)
    db.session.add(row)
    db.session.flush()
    for seq, s in enumerate(found, 1):
        db.session.add(CertRecord(report_id=row.id, organisation_id=org.id, roster_entry_id=s.entry.id,
                                  candidate_id=s.candidate.id, seq=seq, checked_at=check.checked_at,
                                  explanations=explained.get(s.entry.id, []),
                                  occupation_code=standard.code, occupation_name=standard.name, level=batch.level,
                                  exam_date=checks.exam_date(batch), score=s.result.final_total,
                                  pass_mark=s.result.pass_mark,
                                  published_on=clock.to_display(batch.published_at).date(),
                                  **_identity_fields(s)))
    db.session.flush()
    audit.record(AuditAction.CERT_REPORT_SUBMITTED, obj=row, data={"batch_id": batch.id, "records": len(found),
                                                                   "checked_at": check.checked_at.isoformat()})
    return row


def _identity_fields(s: checks.Source) -> dict:
    number = idnumber.normalise(s.id_number)
    try:
        born = datetime.strptime(number[6:14], "%Y%m%d").date()
    except ValueError:
        born = None
    gender = ("男" if int(number[16]) % 2 else "女") if len(number) == 18 and number[16].isdigit() else ""
    return {"ticket_no": s.entry.ticket_no, "name": s.candidate.name,
            "id_number_ciphertext": s.candidate.id_number_ciphertext,
            "id_number_index": s.candidate.id_number_index, "id_number_masked": s.candidate.id_number_masked,
            "gender": gender, "birth_date": born, "photo_sha256": s.candidate.photo_sha256}


def id_number_of(record: CertRecord) -> str:
    """The full ID number, for the export to the provincial platform only."""
    return crypto.decrypt(crypto.current_keys(), record.id_number_ciphertext, purpose=ID_PURPOSE)


# --- returns (退回) and re-reporting --------------------------------------------------------------


def open_return(record: CertRecord) -> CertReturn | None:
    return next((r for r in record.returns if r.resolved_at is None), None)


def enter_returns(actor, report: CertReport, record_ids: list[int], reason: str, note: str) -> list[CertReturn]:
    """Records of `report` the provincial platform returned, with one reason. Raises
    PermissionDenied, ValidationError (no record, unknown reason, "other" without a note),
    Conflict (a record already returned and not re-reported)."""
    may_enter_return(actor, report.organisation).enforce()
    if reason not in set(ReturnReason):
        raise ValidationError("退回原因：请从列表中选择", field="reason")
    note = (note or "").strip()
    if reason == ReturnReason.OTHER and not note:
        raise ValidationError("退回说明：原因为“其他”时请写明具体原因", field="note")
    by_id = {r.id: r for r in report.records}
    chosen = [by_id.get(i) for i in dict.fromkeys(record_ids)]
    if not chosen:
        raise ValidationError("请勾选被退回的记录", field="records")
    if any(r is None for r in chosen):
        raise ValidationError("所选记录不属于本次上报", field="records")
    now, out = clock.now(), []
    for record in chosen:
        if open_return(record) is not None:
            raise Conflict(f"第 {record.seq} 条记录（{record.name}）已被退回，尚未重新上报")
        row = CertReturn(record_id=record.id, report_id=report.id, organisation_id=report.organisation_id,
                         reason=reason, note=note, returned_at=now, returned_by_id=actor.id)
        db.session.add(row)
        db.session.flush()
        record.returns.append(row)
        audit.record(AuditAction.CERT_RETURN_ENTERED, obj=row, data={
            "report_id": report.id, "record": record.seq, "reason": reason, "note": note})
        out.append(row)
    return out


def resubmit(actor, record: CertRecord, note: str) -> CertRecord:
    """Re-report a returned record after fixing it at its source: the record is checked again
    and refreshed from its sources. Raises PermissionDenied, Conflict (not returned; problems
    remain), ValidationError (no note)."""
    report = record.report
    may_resubmit_record(actor, report.organisation).enforce()
    ret = open_return(record)
    if ret is None:
        raise Conflict("该记录未被退回，无需重新上报")
    note = (note or "").strip()
    if not note:
        raise ValidationError("整改说明：请写明如何修正了被退回的数据", field="note")
    batch = report.batch
    found = checks.check(batch, only_entry=record.roster_entry_id)
    if not found:
        raise Conflict("该考生已不是合格考生，不能重新上报")
    problems = [m for k, m in found[0].problems.items() if k != "duplicate"]
    if problems:
        raise Conflict("仍有问题未修正：" + "；".join(problems))
    now = clock.now()
    for key, value in _identity_fields(found[0]).items():
        setattr(record, key, value)
    record.score, record.checked_at, record.resubmitted_at = found[0].result.final_total, now, now
    ret.resolved_at, ret.resolved_by_id, ret.resolution = now, actor.id, note
    db.session.flush()
    audit.record(AuditAction.CERT_RECORD_RESUBMITTED, obj=record, data={
        "report_id": report.id, "record": record.seq, "return_id": ret.id, "note": note})
    return record


def record_for(user, record_id: int) -> CertRecord:
    record = db.session.get(CertRecord, record_id)
    if record is None or not may_view_certdata(user, record.report.organisation):
        raise NotFound("未找到该记录")
    return record


def reason_counts(rows: list[CertReturn]) -> Counter:
    return Counter(r.reason for r in rows)


# --- campaign targets ----------------------------------------------------------------------------


def _scoped_reports(year: int, scope: Scope) -> list[CertReport]:
    start, end = rates.year_bounds(year)
    stmt = select(CertReport).where(CertReport.reported_at >= start, CertReport.reported_at < end)
    if scope.organisation_id is not None:
        stmt = stmt.where(CertReport.organisation_id == scope.organisation_id)
    elif scope.city_id is not None:
        stmt = stmt.where(CertReport.city_id == scope.city_id)
    return list(db.session.scalars(stmt.order_by(CertReport.reported_at)))


def checked_reports(year: int, scope: Scope) -> list[tuple[CertReport, bool]]:
    """Each report of the year in scope, and whether every record was checked before reporting."""
    out = []
    for r in _scoped_reports(year, scope):
        unchecked = db.session.scalar(select(func.count(CertRecord.id)).where(
            CertRecord.report_id == r.id, CertRecord.checked_at.is_(None)))
        out.append((r, unchecked == 0 and r.checked_at is not None and r.checked_at <= r.reported_at))
    return out


def returned_records(year: int, scope: Scope) -> list[tuple[CertRecord, list[CertReturn]]]:
    """Each record reported in the year in scope, with its returns."""
    out = []
    for r in _scoped_reports(year, scope):
        out.extend((rec, list(rec.returns)) for rec in r.records)
    return out


def targets(year: int, scope: Scope) -> list[Target]:
    """`data_checked`: reported batches whose every record was checked before reporting (goal 100 %);
    `return_rate`: returned records / reported records of the year's reports (at most the
    threshold of the rate warning rule)."""
    checked = checked_reports(year, scope)
    records = returned_records(year, scope)
    return [
        share("data_checked", "上报前数据检查率", 1.0, sum(1 for _r, ok in checked if ok), len(checked),
              endpoint="certdata.target_checked"),
        share("return_rate", "上报数据退回率", rates.rate_goal(), sum(1 for _r, rs in records if rs), len(records),
              direction=Direction.AT_MOST, endpoint="certdata.target_returns"),
    ]


__all__ = ["Scope", "batch_for", "batch_organisation", "blockers", "check_of", "checked_reports", "enter_returns",
           "explain", "id_number_of", "oversees", "open_return", "organisations_of", "problem_for", "problems_of",
           "published_batches", "reason_counts", "record_for", "report", "report_for", "report_of", "reports_of",
           "resubmit", "returned_records", "run_check", "targets", "visible_scope"]
