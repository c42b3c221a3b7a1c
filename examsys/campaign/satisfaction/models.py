"""The tables of satisfaction: an organisation's answer to a post-exam survey comment, the
authority's questionnaires (问卷调查) with their ordered questions, the batches they are
distributed to and the candidates' responses, and the records of interviews (个别访谈)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import City, Organisation, User
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.delivery.models import Batch, RosterEntry
from examsys.delivery.models.survey import SurveyResponse
from examsys.extensions import db

# Question kinds of a questionnaire.
SCALE, SINGLE, MULTIPLE, TEXT = "scale", "single", "multiple", "text"
KIND_LABELS = {SCALE: "量表题（1～5 分）", SINGLE: "单选题", MULTIPLE: "多选题", TEXT: "文字题"}
SCALE_LABELS = {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"}

DRAFT, PUBLISHED, CLOSED = "draft", "published", "closed"
STATUS_LABELS = {DRAFT: "草稿", PUBLISHED: "已发布", CLOSED: "已结束"}

CANDIDATE, STAFF = "candidate", "staff"
INTERVIEWEE_LABELS = {CANDIDATE: "考生", STAFF: "机构工作人员"}


class CommentAnswer(db.Model):
    """The organisation's answer to the free-text comment of one post-exam survey response; one
    per comment, shown to the authority."""

    __tablename__ = "survey_comment_answers"
    __audit_type__ = "survey_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"),
                                                    nullable=False, unique=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    response: Mapped[SurveyResponse] = relationship()
    answered_by: Mapped[User] = relationship()


class Questionnaire(db.Model):
    """A questionnaire of the authority (the province's when `city_id` is None, else a city's).
    Published, its questions never change: a change is a copy (`copied_from_id`)."""

    __tablename__ = "questionnaires"
    __audit_type__ = "questionnaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    intro: Mapped[str] = mapped_column(Text, nullable=False, default="")
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DRAFT)
    # The public link's secret part (/satisfaction/q/<token>); made when published.
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaires.id", ondelete="SET NULL"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    questions: Mapped[list[QuestionnaireQuestion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireQuestion.position", cascade="all, delete-orphan")
    distributions: Mapped[list[QuestionnaireDistribution]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireDistribution.id", cascade="all, delete-orphan")
    city: Mapped[City | None] = relationship()
    created_by: Mapped[User] = relationship()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def editable(self) -> bool:
        return self.status == DRAFT


class QuestionnaireQuestion(db.Model):
    __tablename__ = "questionnaire_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    options: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)  # choice questions
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


class QuestionnaireDistribution(db.Model):
    """A questionnaire sent to the candidates of one batch (by its link and QR code)."""

    __tablename__ = "questionnaire_distributions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "batch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id", ondelete="CASCADE"),
                                                  nullable=False)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False, index=True)
    distributed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    distributed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="distributions")
    batch: Mapped[Batch] = relationship()

    @property
    def organisation(self) -> Organisation:
        return db.session.get(Organisation, self.batch.organisation_id)


class QuestionnaireResponse(db.Model):
    """One candidate's answers, once per questionnaire: {question id (str): 1..5 | option index |
    [option indexes] | text}. `satisfied`: the mean of the scale answers is at least 4 (满意 or
    better); None when the questionnaire has no scale question answered."""

    __tablename__ = "questionnaire_responses"
    __audit_type__ = "questionnaire_response"
    __table_args__ = (UniqueConstraint("questionnaire_id", "roster_entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id", ondelete="CASCADE"),
                                                 nullable=False)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    answers: Mapped[dict] = mapped_column(PortableJSON, nullable=False)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    questionnaire: Mapped[Questionnaire] = relationship()
    roster_entry: Mapped[RosterEntry] = relationship()
    batch: Mapped[Batch] = relationship()
    organisation: Mapped[Organisation] = relationship()


class Interview(db.Model):
    """A record of an interview (个别访谈) by the authority with a candidate or a staff member of
    an organisation."""

    __tablename__ = "satisfaction_interviews"
    __audit_type__ = "interview"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    interviewee_role: Mapped[str] = mapped_column(String(16), nullable=False)
    interviewee: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    satisfied: Mapped[bool] = mapped_column(Boolean, nullable=False)
    findings: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    organisation: Mapped[Organisation] = relationship()
    recorded_by: Mapped[User] = relationship()

    @property
    def role_label(self) -> str:
        return INTERVIEWEE_LABELS[self.interviewee_role]
