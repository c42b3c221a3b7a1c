"""The process record's tables, both append-only (examsys.audit.append_only refuses UPDATE and
DELETE in the database itself):

- audit_events: every event, a link of its scope's hash chain (examsys.audit.chain);
- answer_history: every acknowledged save of an answer, written with the save, so a disputed
  answer can be replayed; each row is matched by the `attempt.answer_saved` event of the
  attempt's chain that carries its digest.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=True
    )
    actor_label: Mapped[str | None] = mapped_column(String(128))
    actor_roles: Mapped[str | None] = mapped_column(String(255))
    # The organisation the event belongs to: a fact of the record, not a foreign key (a key's
    # check would lock the organisation's row on every event, and every save is an event: see
    # migration 2647915a7be3). Organisations are never deleted.
    organisation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # The link: `scope` (examsys.audit.chain), its 1-based `seq`, the previous link's hash and this
    # event's hash over its canonical form.
    scope: Mapped[str] = mapped_column(String(40), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (
        UniqueConstraint("scope", "seq", name="uq_audit_events_scope_seq"),
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_org_time", "organisation_id", "occurred_at"),
        Index("ix_audit_events_action", "action"),
    )


class AnswerHistory(db.Model):
    """One acknowledged save: the answer as stored, its client seq, the server time and address."""

    __tablename__ = "answer_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="RESTRICT"), nullable=False)
    # Not a foreign key, for the same reason as AuditEvent.organisation_id (the form-item rows are
    # shared by the whole room); the save's own statement checks the item, and `responses` holds
    # its key to the same row.
    form_item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    answer: Mapped[dict | list | str | bool | None] = mapped_column(PortableJSON, nullable=True)
    flagged: Mapped[bool | None] = mapped_column(Boolean)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("attempt_id", "form_item_id", "seq", name="uq_answer_history_save"),)


class VerificationRun(db.Model):
    """One run of `examsys audit verify`: when, over what, and with what result (shown on the
    system status page). An ordinary table: it reports on the record, it is not part of it."""

    __tablename__ = "audit_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    target: Mapped[str] = mapped_column(String(64), nullable=False)  # "all" or "batch/<id>"
    checkpoint_sha256: Mapped[str | None] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)
    scopes: Mapped[int] = mapped_column(Integer, nullable=False)
    failures: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
