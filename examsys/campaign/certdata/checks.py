"""The check of certificate data: what is wrong with each record of a published batch, before it
is reported. A record is a candidate who passed (see models); each problem names its field in
Chinese. Reads only: `services.run_check` stores what this finds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from examsys import clock, crypto
from examsys.accounts import idnumber
from examsys.accounts.candidates import ID_PURPOSE
from examsys.accounts.models import Candidate, Organisation
from examsys.campaign.certdata.models import CertRecord, CertReport, ProblemKind
from examsys.delivery.models import Attempt, Batch, Result, RosterEntry
from examsys.delivery.scoring.services import PUBLISHED_STATES, blueprint_snapshot
from examsys.extensions import db
from examsys.standards.models import Standard
from examsys.supervision.directory.scope import entry_of

# A name as the ID card prints it: Chinese characters, the middle dot of minority and foreign
# names, or Latin letters with single spaces; two to thirty characters.
_NAME = re.compile(r"^(?:[\u3400-\u9fff\u00b7\u30fb]{2,30}|[A-Za-z]+(?: [A-Za-z]+){0,5})$")
MIN_AGE = 16  # the youngest a candidate may be on the day of the exam
MAX_AGE = 80  # older than this is almost always a mistyped birth year


@dataclass
class Source:
    """One record as examsys holds it now: the data the export carries, from its sources."""

    entry: RosterEntry
    candidate: Candidate
    result: Result
    attempt: Attempt
    id_number: str  # decrypted; never shown or logged, only checked and exported
    problems: dict[str, str] = field(default_factory=dict)  # kind → Chinese message naming the field


def exam_date(batch: Batch) -> date:
    return clock.to_display(batch.window_start).date()


def sources(batch: Batch) -> list[Source]:
    """The records of a batch: one per candidate with a passed result, in ticket order."""
    rows = db.session.execute(
        select(Result, Attempt, RosterEntry)
        .join(Attempt, Attempt.id == Result.attempt_id)
        .join(RosterEntry, RosterEntry.id == Attempt.roster_entry_id)
        .where(Result.batch_id == batch.id, Result.passed.is_(True))
        .options(selectinload(RosterEntry.candidate))
        .order_by(RosterEntry.ticket_no)).all()
    keys = crypto.current_keys()
    return [Source(entry, entry.candidate, result, attempt,
                   crypto.decrypt(keys, entry.candidate.id_number_ciphertext, purpose=ID_PURPOSE))
            for result, attempt, entry in rows]


def is_published(batch: Batch) -> bool:
    return batch.state in PUBLISHED_STATES and batch.published_at is not None


def check(batch: Batch, only_entry: int | None = None) -> list[Source]:
    """Every record of `batch` with its problems (all records, or the one roster entry)."""
    standard = db.session.get(Standard, batch.standard_id)
    records = [s for s in sources(batch) if only_entry is None or s.entry.id == only_entry]
    snapshot_mark = blueprint_snapshot(batch).get("pass_mark")
    entry = entry_of(batch.organisation_id)
    on = exam_date(batch)
    for s in records:
        _identity(s, on)
        _name(s)
        _scope(s, batch, standard, entry)
        _dates(s, batch)
        _pass_mark(s, snapshot_mark)
        if not s.candidate.photo_sha256:
            s.problems[ProblemKind.PHOTO] = "照片：缺少考生照片，请在考生信息中上传"
    _duplicates(records, batch, standard)
    return records


def _identity(s: Source, on: date) -> None:
    try:
        number = idnumber.validate(s.id_number)
    except idnumber.InvalidIdNumber as exc:
        kind = ProblemKind.BIRTH_DATE if "出生日期" in str(exc) else ProblemKind.ID_NUMBER
        s.problems[kind] = f"身份证号码：{exc}"
        return
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if born > on:
        s.problems[ProblemKind.BIRTH_DATE] = f"出生日期：{born.isoformat()} 晚于考试日期"
    elif age < MIN_AGE:
        s.problems[ProblemKind.BIRTH_DATE] = f"出生日期：{born.isoformat()}，考试时未满{MIN_AGE}周岁"
    elif age > MAX_AGE:
        s.problems[ProblemKind.BIRTH_DATE] = f"出生日期：{born.isoformat()}，考试时已满{MAX_AGE}周岁，请核对"


def _name(s: Source) -> None:
    name = s.candidate.name or ""
    if not name.strip():
        s.problems[ProblemKind.NAME] = "姓名：为空"
    elif not _NAME.match(name):
        s.problems[ProblemKind.NAME] = f"姓名：“{name}”含有数字、多余空格或符号，应与身份证一致"


def _scope(s: Source, batch: Batch, standard: Standard, entry) -> None:
    if entry is None:
        s.problems[ProblemKind.SCOPE] = "职业（工种）及等级：本机构未列入评价机构目录，无法核对评价范围"
    elif not entry.covers(standard.code, batch.level):
        s.problems[ProblemKind.SCOPE] = (f"职业（工种）及等级：{standard.name}（{standard.code}）{batch.level}级"
                                         f"不在本机构备案的评价范围内")


def _dates(s: Source, batch: Batch) -> None:
    if not (batch.window_start <= s.attempt.started_at <= batch.window_end):
        when = clock.to_display(s.attempt.started_at)
        s.problems[ProblemKind.DATES] = f"考试日期：开考时间 {when:%Y-%m-%d %H:%M} 不在批次考试时间内"
    elif batch.filed_at is None or batch.filed_at > batch.window_start:
        s.problems[ProblemKind.DATES] = "考试日期：批次未在考试开始前备案"
    elif batch.published_at is None or batch.published_at < batch.window_end:
        s.problems[ProblemKind.DATES] = "考试日期：成绩发布时间早于考试结束时间"


def _pass_mark(s: Source, snapshot_mark) -> None:
    r = s.result
    if snapshot_mark is not None and abs(float(snapshot_mark) - r.pass_mark) > 1e-9:
        s.problems[ProblemKind.PASS_MARK] = (f"成绩与合格线：成绩所用合格线 {r.pass_mark:g} 与试卷规定的"
                                             f" {float(snapshot_mark):g} 不一致")
    elif r.final_total < r.pass_mark - 1e-9:
        s.problems[ProblemKind.PASS_MARK] = (f"成绩与合格线：成绩 {r.final_total:g} 低于合格线 {r.pass_mark:g}，"
                                             "不应判为合格")


def _duplicates(records: list[Source], batch: Batch, standard: Standard) -> None:
    """The same person (by ID number) with the same occupation and level, reported by another
    batch or passed in another organisation's published batch."""
    if not records:
        return
    by_index = {s.candidate.id_number_index: s for s in records}
    reported = db.session.execute(
        select(CertRecord.id_number_index, Organisation.name, CertReport.reported_at)
        .join(CertReport, CertReport.id == CertRecord.report_id)
        .join(Organisation, Organisation.id == CertReport.organisation_id)
        .where(CertRecord.id_number_index.in_(by_index), CertRecord.occupation_code == standard.code,
               CertRecord.level == batch.level, CertReport.batch_id != batch.id)).all()
    for index, org_name, reported_at in reported:
        by_index[index].problems[ProblemKind.DUPLICATE] = (
            f"重复取证：该考生同一职业等级已由“{org_name}”于 {clock.to_display(reported_at):%Y-%m-%d} 上报")
    passed_elsewhere = db.session.execute(
        select(Candidate.id_number_index, Organisation.name)
        .select_from(Result)
        .join(Attempt, Attempt.id == Result.attempt_id)
        .join(RosterEntry, RosterEntry.id == Attempt.roster_entry_id)
        .join(Candidate, Candidate.id == RosterEntry.candidate_id)
        .join(Batch, Batch.id == Result.batch_id)
        .join(Standard, Standard.id == Batch.standard_id)
        .join(Organisation, Organisation.id == Batch.organisation_id)
        .where(Candidate.id_number_index.in_(by_index), Result.passed.is_(True), Standard.code == standard.code,
               Batch.level == batch.level, Batch.organisation_id != batch.organisation_id,
               Batch.state.in_(PUBLISHED_STATES))).all()
    for index, org_name in passed_elsewhere:
        by_index[index].problems.setdefault(
            ProblemKind.DUPLICATE, f"重复取证：该考生同一职业等级已在“{org_name}”考试合格")
