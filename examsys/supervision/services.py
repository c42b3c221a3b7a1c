"""Supervision's operations: the authority assigns supervisors to batches (refused for the
supervisor's own organisation and where they declared a conflict of interest), supervisors
declare conflicts, read a batch's record (each look at a candidate's record is itself recorded),
record findings and fill in, sign and re-version the internal supervision form (内部督导表).

The assignment is the source of `Batch.supervisor_id` while the batch is being prepared or sat
(planned, filed, open): the authority's supervisor is the supervisor of record that filing
checks (持证上岗); a later assignment (a closed or published batch drawn for a check) opens the
record to its supervisor without rewriting who supervised the sitting.

Every operation flushes and records one audit event per change; the request commits. Raises
PermissionDenied / Conflict through the Decisions of examsys.permissions, ValidationError for
bad input, NotFound for what the user may not see."""

from __future__ import annotations

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import CertificateKind, Organisation, User
from examsys.audit.actions import AuditAction
from examsys.delivery.batches import services as batches
from examsys.delivery.models import Attempt, Batch, BatchState
from examsys.errors import Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import (
    Role,
    may_assign_supervisor,
    may_be_supervisor,
    may_supervise_batch,
)
from examsys.supervision import flags
from examsys.supervision.models import (
    CHECKS,
    FINDING_CATEGORY_LABELS,
    ConflictDeclaration,
    FindingCategory,
    FormStatus,
    SupervisionAssignment,
    SupervisionFinding,
    SupervisionForm,
)

# While a batch is prepared or sat, its assigned supervisor is its supervisor of record.
SITTING_STATES = (BatchState.PLANNED, BatchState.FILED, BatchState.OPEN)



# --- assignments (the authority) ----------------------------------------------------------------


def running_assignments(batch: Batch) -> list[SupervisionAssignment]:
    return [a for a in batch.supervision_assignments if a.ended_at is None]


def has_conflict(supervisor_id: int, organisation_id: int) -> bool:
    return db.session.scalar(select(ConflictDeclaration.id).where(
        ConflictDeclaration.supervisor_id == supervisor_id,
        ConflictDeclaration.organisation_id == organisation_id)) is not None


def supervisors() -> list[User]:
    """The authority's supervisors (active users holding the role), by name."""
    return [u for u in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))
            if u.has_role(Role.SUPERVISOR)]


def assign(actor: User, batch: Batch, supervisor: User) -> SupervisionAssignment:
    """Assign `supervisor` to `batch`, ending the batch's running assignment. Raises
    PermissionDenied (not the authority), Conflict (`supervision.own_organisation`,
    `supervision.conflict_declared`, not a supervisor, already assigned, archived batch) or
    ValidationError (no supervisor certificate valid on the exam's dates, for a batch being
    sat)."""
    may_assign_supervisor(actor, supervisor, batch,
                          conflicted=has_conflict(supervisor.id, batch.organisation_id)).enforce()
    if batch.state == BatchState.ARCHIVED:
        raise Conflict("批次已归档，不能再委派督导员")
    running = running_assignments(batch)
    if any(a.supervisor_id == supervisor.id for a in running):
        raise Conflict(f"{supervisor.display_name} 已是该批次的督导员")
    of_record = batch.state in SITTING_STATES
    if of_record and batch.state != BatchState.PLANNED:
        valid, label = batches.certificate_status(supervisor, CertificateKind.SUPERVISOR, batch)
        if not valid:
            raise ValidationError(f"督导员 {supervisor.display_name} 没有考试日期内有效的督导员证：{label}",
                                  field="supervisor_id")
    for old in running:
        _end(actor, old, reason="replaced")
    row = SupervisionAssignment(batch_id=batch.id, supervisor_id=supervisor.id, assigned_by_id=actor.id,
                                assigned_at=clock.now())
    db.session.add(row)
    before = batch.supervisor_id
    if of_record:
        batch.supervisor_id = supervisor.id
    db.session.flush()
    db.session.expire(batch, ["supervision_assignments"])
    audit.record(AuditAction.SUPERVISION_ASSIGNMENT_CREATED, obj=row, organisation_id=batch.organisation_id,
                 data={"batch": batch.id, "supervisor": supervisor.id, "supervisor_name": supervisor.display_name,
                       "supervisor_of_record": of_record, "supervisor_before": before})
    return row


def _end(actor: User, row: SupervisionAssignment, *, reason: str) -> None:
    row.ended_at = clock.now()
    row.ended_by_id = actor.id
    batch = row.batch
    if batch.state == BatchState.PLANNED and batch.supervisor_id == row.supervisor_id:
        batch.supervisor_id = None
    db.session.flush()
    audit.record(AuditAction.SUPERVISION_ASSIGNMENT_ENDED, obj=row, organisation_id=batch.organisation_id,
                 data={"batch": batch.id, "supervisor": row.supervisor_id, "reason": reason})


def end_assignment(actor: User, row: SupervisionAssignment) -> None:
    """Withdraw a running assignment. Raises PermissionDenied (not the authority) or Conflict
    (already ended)."""
    may_assign_supervisor(actor, row.supervisor, row.batch, conflicted=False).enforce()
    if row.ended_at is not None:
        raise Conflict("该委派已结束")
    _end(actor, row, reason="withdrawn")
    db.session.expire(row.batch, ["supervision_assignments"])


def my_assignments(user: User) -> list[SupervisionAssignment]:
    return list(db.session.scalars(select(SupervisionAssignment).where(
        SupervisionAssignment.supervisor_id == user.id, SupervisionAssignment.ended_at.is_(None))
        .order_by(SupervisionAssignment.assigned_at.desc())))


def batch_for_authority(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        raise NotFound("未找到该评价批次")
    return batch


def assignment_for_authority(assignment_id: int) -> SupervisionAssignment:
    row = db.session.get(SupervisionAssignment, assignment_id)
    if row is None:
        raise NotFound("未找到该督导委派")
    return row


def all_batches() -> list[Batch]:
    """Every batch of every organisation, the latest first (the authority's assignment page)."""
    return list(db.session.scalars(select(Batch).order_by(Batch.window_start.desc())))


# --- conflicts of interest (the supervisor) -----------------------------------------------------


def declare_conflict(supervisor: User, organisation: Organisation, reason: str) -> ConflictDeclaration:
    """The supervisor's own declaration. Raises PermissionDenied (not a supervisor),
    ValidationError (no reason) or Conflict (declared already)."""
    decision = may_be_supervisor(supervisor)
    decision.enforce()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请说明利益冲突的情况", field="reason")
    if has_conflict(supervisor.id, organisation.id):
        raise Conflict(f"已申报与 {organisation.name} 的利益冲突")
    row = ConflictDeclaration(supervisor_id=supervisor.id, organisation_id=organisation.id, reason=reason,
                              declared_at=clock.now())
    db.session.add(row)
    db.session.flush()
    # The declaration is the authority's record, not the declared organisation's.
    audit.record(AuditAction.CONFLICT_DECLARATION_DECLARED, obj=row, organisation_id=supervisor.organisation_id,
                 data={"organisation": organisation.id, "organisation_name": organisation.name, "reason": reason})
    return row


def conflicts(supervisor: User | None = None) -> list[ConflictDeclaration]:
    """A supervisor's declarations, or everyone's (the authority)."""
    stmt = select(ConflictDeclaration).order_by(ConflictDeclaration.declared_at.desc())
    if supervisor is not None:
        stmt = stmt.where(ConflictDeclaration.supervisor_id == supervisor.id)
    return list(db.session.scalars(stmt))


def organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.code)))


# --- the supervisor's reading --------------------------------------------------------------------


def supervised_batch(batch_id: int, user: User) -> Batch:
    """The batch for its assigned supervisor; NotFound for anyone else (never revealing it)."""
    batch = db.session.get(Batch, batch_id)
    if batch is None or not may_supervise_batch(user, batch):
        raise NotFound("未找到该评价批次")
    return batch


def supervised_attempt(attempt_id: int, user: User) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or not may_supervise_batch(user, attempt.batch):
        raise NotFound("未找到该考生的作答记录")
    return attempt


def supervises_paper(user: User, paper_id: int) -> bool:
    """The user supervises a batch that sits this paper (and so reads the paper, read-only)."""
    stmt = select(Batch).where(Batch.paper_id == paper_id)
    return any(may_supervise_batch(user, b) for b in db.session.scalars(stmt))


def record_view(user: User, attempt: Attempt, *, form_item_id: int | None = None) -> None:
    """A supervisor looked at a candidate's record (their timeline, or one item's answer
    history): recorded in the batch's chain, visible to the organisation."""
    data = {"view": "item_history" if form_item_id else "timeline", "ticket_no": attempt.roster_entry.ticket_no}
    if form_item_id:
        data["item"] = form_item_id
    audit.record(AuditAction.ATTEMPT_VIEWED_FOR_SUPERVISION, obj=attempt, data=data)


# --- findings ---------------------------------------------------------------------------------------


def record_finding(user: User, batch: Batch, category: str, text: str,
                   attempt: Attempt | None = None) -> SupervisionFinding:
    """Raises NotFound (not the batch's supervisor; an attempt of another batch) or
    ValidationError (unknown category, empty text)."""
    if not may_supervise_batch(user, batch):
        _not_found()
    if attempt is not None and attempt.batch_id != batch.id:
        raise NotFound("未找到该考生的作答记录")
    if category not in {c.value for c in FindingCategory}:
        raise ValidationError("请选择发现的类别", field="category")
    text = (text or "").strip()
    if not text:
        raise ValidationError("请填写督导发现", field="text")
    row = SupervisionFinding(batch_id=batch.id, attempt_id=attempt.id if attempt else None, supervisor_id=user.id,
                             category=category, text=text, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.SUPERVISION_FINDING_RECORDED, obj=row, organisation_id=batch.organisation_id,
                 data={"category": category, "text": text, "attempt": row.attempt_id})
    return row


def findings(batch: Batch) -> list[SupervisionFinding]:
    return list(db.session.scalars(select(SupervisionFinding).where(SupervisionFinding.batch_id == batch.id)
                                   .order_by(SupervisionFinding.created_at, SupervisionFinding.id)))


def _not_found():
    raise NotFound("未找到该评价批次")


# --- the internal supervision form (内部督导表) ------------------------------------------------------


def forms_of(batch: Batch, user: User) -> list[SupervisionForm]:
    """The user's versions of the batch's form, the latest first."""
    return list(db.session.scalars(select(SupervisionForm).where(
        SupervisionForm.batch_id == batch.id, SupervisionForm.supervisor_id == user.id)
        .order_by(SupervisionForm.version.desc())))


def current_form(batch: Batch, user: User) -> SupervisionForm | None:
    versions = forms_of(batch, user)
    return versions[0] if versions else None


def _checks(values) -> list[str]:
    unknown = [v for v in values if v not in CHECKS]
    if unknown:
        raise ValidationError("未知的检查项目", field="checks")
    return [k for k in CHECKS if k in set(values)]


def save_form(user: User, batch: Batch, *, checks: list[str], conclusion: str) -> SupervisionForm:
    """Fill in the draft (made on first save). Raises NotFound (not the batch's supervisor),
    Conflict (the latest version is signed: start a new version) or ValidationError."""
    if not may_supervise_batch(user, batch):
        _not_found()
    form = current_form(batch, user)
    if form is not None and form.signed:
        raise Conflict(f"第 {form.version} 版督导表已签署，不能修改；如需更正，请新建版本")
    created = form is None
    if created:
        form = SupervisionForm(batch_id=batch.id, supervisor_id=user.id, version=1, status=FormStatus.DRAFT.value,
                               created_at=clock.now())
        db.session.add(form)
    form.checks = _checks(checks)
    form.conclusion = (conclusion or "").strip()
    db.session.flush()
    audit.record(AuditAction.SUPERVISION_FORM_CREATED if created else AuditAction.SUPERVISION_FORM_UPDATED,
                 obj=form, organisation_id=batch.organisation_id,
                 data={"version": form.version, "checks": form.checks, "conclusion": form.conclusion})
    return form


def new_version(user: User, batch: Batch) -> SupervisionForm:
    """A new draft after a signed version, starting from its checks and conclusion. Raises
    NotFound or Conflict (the latest version is still a draft)."""
    if not may_supervise_batch(user, batch):
        _not_found()
    latest = current_form(batch, user)
    if latest is None or not latest.signed:
        raise Conflict("当前督导表尚未签署，请直接修改")
    form = SupervisionForm(batch_id=batch.id, supervisor_id=user.id, version=latest.version + 1,
                           status=FormStatus.DRAFT.value, checks=list(latest.checks), conclusion=latest.conclusion,
                           created_at=clock.now())
    db.session.add(form)
    db.session.flush()
    audit.record(AuditAction.SUPERVISION_FORM_CREATED, obj=form, organisation_id=batch.organisation_id,
                 data={"version": form.version, "replaces": latest.id})
    return form


def certificate_of(user: User, batch: Batch) -> dict:
    valid, label = batches.certificate_status(user, CertificateKind.SUPERVISOR, batch)
    return {"valid": valid, "label": label}


def sign_form(user: User, form: SupervisionForm) -> SupervisionForm:
    """Sign and freeze the form: the certificate, the flags reviewed and the findings are
    copied into it as they are now. Raises NotFound, Conflict (signed already) or
    ValidationError (no check ticked, no conclusion)."""
    batch = db.session.get(Batch, form.batch_id)
    if form.supervisor_id != user.id:
        _not_found()
    if not may_supervise_batch(user, batch):
        _not_found()
    if form.signed:
        raise Conflict(f"第 {form.version} 版督导表已签署")
    problems = []
    if not form.checks:
        problems.append("请至少勾选一项已完成的检查")
    if not form.conclusion.strip():
        problems.append("请填写督导结论")
    if problems:
        raise ValidationError("；".join(problems), details={"errors": problems})
    rows = findings(batch)
    form.content = {
        "supervisor": {"name": user.display_name, "organisation": user.organisation.name},
        "certificate": certificate_of(user, batch),
        "checks": [{"code": c, "label": CHECKS[c]} for c in form.checks],
        "flags": flags.batch_anomalies(batch.id).as_data(),
        "findings": [{"id": f.id, "category": FINDING_CATEGORY_LABELS[FindingCategory(f.category)],
                      "text": f.text, "attempt": f.attempt_id,
                      "ticket_no": f.attempt.roster_entry.ticket_no if f.attempt else None,
                      "at": f.created_at.isoformat()} for f in rows],
    }
    form.status = FormStatus.SIGNED.value
    form.signed_at = clock.now()
    db.session.flush()
    audit.record(AuditAction.SUPERVISION_FORM_SIGNED, obj=form, organisation_id=batch.organisation_id,
                 data={"version": form.version, "checks": form.checks, "findings": [f.id for f in rows],
                       "flags": len(form.content["flags"])})
    return form


def get_form(form_id: int, user: User) -> SupervisionForm:
    form = db.session.get(SupervisionForm, form_id)
    if form is None or form.supervisor_id != user.id or not may_supervise_batch(
            user, db.session.get(Batch, form.batch_id)):
        raise NotFound("未找到该督导表")
    return form


__all__ = ["CHECKS", "FINDING_CATEGORY_LABELS", "SITTING_STATES", "all_batches", "assign",
           "assignment_for_authority", "batch_for_authority", "conflicts",
           "current_form", "declare_conflict", "end_assignment", "findings", "forms_of", "get_form",
           "has_conflict", "my_assignments", "new_version", "organisations", "record_finding", "record_view",
           "running_assignments", "save_form", "sign_form", "supervised_attempt", "supervised_batch",
           "supervises_paper", "supervisors"]
