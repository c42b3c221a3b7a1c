"""Certificate-data tables: problems found by the check (per batch and roster entry), the frozen
report of a batch with its records, returns of records, warning rules and the warnings raised.

Only candidates who passed are reported: a certificate (证书) is issued to those who passed, and
the provincial platform keeps no record of a failed sitting."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import Organisation, User
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.delivery.models import Batch
from examsys.extensions import db


class ProblemKind(enum.StrEnum):
    ID_NUMBER = "id_number"
    BIRTH_DATE = "birth_date"
    NAME = "name"
    SCOPE = "scope"
    DATES = "dates"
    PASS_MARK = "pass_mark"  # noqa: S105 - a problem kind, not a password
    DUPLICATE = "duplicate"
    PHOTO = "photo"


PROBLEM_FIELD_LABELS = {ProblemKind.ID_NUMBER: "身份证号码", ProblemKind.BIRTH_DATE: "出生日期",
                        ProblemKind.NAME: "姓名", ProblemKind.SCOPE: "职业（工种）及等级",
                        ProblemKind.DATES: "考试日期", ProblemKind.PASS_MARK: "成绩与合格线",
                        ProblemKind.DUPLICATE: "重复取证", ProblemKind.PHOTO: "照片"}


class CertProblem(db.Model):
    """One problem the check found in one record (a passed candidate of a batch). Cleared when a
    later check no longer finds it (`cleared_at`); explained by the organisation's administrator
    when the data is right as it is (`explanation`). Open = neither: it blocks reporting."""

    __tablename__ = "cert_problems"
    __audit_type__ = "cert_problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False, index=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id", ondelete="RESTRICT"),
                                                 nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    explanation: Mapped[str | None] = mapped_column(Text)
    explained_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    explained_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    explained_by: Mapped[User | None] = relationship()

    @property
    def field_label(self) -> str:
        return PROBLEM_FIELD_LABELS[ProblemKind(self.kind)]

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None and self.explanation is None


class CertCheck(db.Model):
    """The last check of a batch's records: when, by whom, how many records were checked."""

    __tablename__ = "cert_checks"
    __audit_type__ = "cert_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False, unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    entries: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)  # roster entry ids checked

    checked_by: Mapped[User | None] = relationship()


class CertReport(db.Model):
    """A batch's certificate data as reported (上报): frozen with its records."""

    __tablename__ = "cert_reports"
    __audit_type__ = "cert_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False, unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"), nullable=False, index=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the check the report rests on

    batch: Mapped[Batch] = relationship()
    organisation: Mapped[Organisation] = relationship()
    reported_by: Mapped[User | None] = relationship()
    records: Mapped[list[CertRecord]] = relationship(back_populates="report", order_by="CertRecord.seq")


class CertRecord(db.Model):
    """One reported record, frozen at reporting: what the export carries. `checked_at` is when the
    check last passed over it before reporting (None: reported without a check)."""

    __tablename__ = "cert_records"
    __audit_type__ = "cert_record"
    __table_args__ = (UniqueConstraint("report_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("cert_reports.id", ondelete="RESTRICT"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id", ondelete="RESTRICT"),
                                                 nullable=False)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="RESTRICT"), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    ticket_no: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    id_number_ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    id_number_index: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    id_number_masked: Mapped[str] = mapped_column(String(32), nullable=False)
    gender: Mapped[str] = mapped_column(String(4), nullable=False, default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    occupation_code: Mapped[str] = mapped_column(String(32), nullable=False)
    occupation_name: Mapped[str] = mapped_column(String(100), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    exam_date: Mapped[date] = mapped_column(Date, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    pass_mark: Mapped[float] = mapped_column(Float, nullable=False)
    published_on: Mapped[date | None] = mapped_column(Date)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    explanations: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resubmitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last re-report after a return

    report: Mapped[CertReport] = relationship(back_populates="records")
    returns: Mapped[list[CertReturn]] = relationship(back_populates="record", order_by="CertReturn.returned_at")


class ReturnReason(enum.StrEnum):
    ID_NUMBER = "id_number"
    NAME = "name"
    PHOTO = "photo"
    OCCUPATION = "occupation"
    SCORE = "score"
    DUPLICATE = "duplicate"
    DATES = "dates"
    OTHER = "other"


RETURN_REASON_LABELS = {ReturnReason.ID_NUMBER: "身份证号码有误", ReturnReason.NAME: "姓名与身份信息不符",
                        ReturnReason.PHOTO: "照片缺失或不合格", ReturnReason.OCCUPATION: "职业或等级超出备案范围",
                        ReturnReason.SCORE: "成绩或合格线有误", ReturnReason.DUPLICATE: "重复上报或重复取证",
                        ReturnReason.DATES: "考试日期与批次不符", ReturnReason.OTHER: "其他"}


class CertReturn(db.Model):
    """A record returned (退回) by the provincial platform, entered by the province or the city,
    with its reason; resolved when the organisation re-reports the record."""

    __tablename__ = "cert_returns"
    __audit_type__ = "cert_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("cert_records.id", ondelete="RESTRICT"), nullable=False,
                                           index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("cert_reports.id", ondelete="RESTRICT"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    resolution: Mapped[str | None] = mapped_column(Text)

    record: Mapped[CertRecord] = relationship(back_populates="returns")
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id])

    @property
    def reason_label(self) -> str:
        return RETURN_REASON_LABELS[ReturnReason(self.reason)]


class RuleKind(enum.StrEnum):
    RATE_ABOVE = "rate_above"  # the return rate over the last `months` above `threshold`
    RISE = "rise"  # the monthly rate rose month on month over the last `months`
    REPEATED_REASON = "repeated_reason"  # one reason returned ≥ `count` times within `months`


RULE_KIND_LABELS = {RuleKind.RATE_ABOVE: "退回率超过阈值", RuleKind.RISE: "退回率连续上升",
                    RuleKind.REPEATED_REASON: "同一退回原因反复出现"}


class WarningRule(db.Model):
    """A warning rule (预警规则) the province configures; evaluated per organisation."""

    __tablename__ = "cert_warning_rules"
    __audit_type__ = "cert_warning_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    threshold: Mapped[float] = mapped_column(Float, nullable=False, default=0.05)
    months: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    @property
    def kind_label(self) -> str:
        return RULE_KIND_LABELS[RuleKind(self.kind)]


class WarningStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


WARNING_STATUS_LABELS = {WarningStatus.OPEN: "待处理", WarningStatus.ACKNOWLEDGED: "已知悉",
                         WarningStatus.CLOSED: "已关闭"}


class CertWarning(db.Model):
    """An early warning (预警) a rule raised for an organisation. `period` (the month the
    evaluation ended in, YYYY-MM) with the rule and organisation makes it raised once."""

    __tablename__ = "cert_warnings"
    __audit_type__ = "cert_warning"
    __table_args__ = (UniqueConstraint("rule_id", "organisation_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("cert_warning_rules.id", ondelete="RESTRICT"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"), nullable=False, index=True)
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    figures: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=WarningStatus.OPEN.value)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")

    rule: Mapped[WarningRule] = relationship()
    organisation: Mapped[Organisation] = relationship()
    handled_by: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        return WARNING_STATUS_LABELS[WarningStatus(self.status)]
