"""Spot checks and rectification. The batch's assigned supervisor records a check against the
indicator checklist and its findings (severity, photos through the bank's safe image upload,
a deadline); the checked organisation answers each finding with its rectification and evidence;
the supervisor closes it or reopens it. A finding not closed by its deadline is overdue, listed
to the organisation's city and to the province.

Every change records an event; a look at a check by someone outside the checked organisation
(its city, the province) is recorded too. Services flush; the request commits. Raises NotFound
(not the batch's supervisor, or a check the user may not see), PermissionDenied (answering or
closing without the right), Conflict (the finding's state does not allow the step),
ValidationError (bad input, a bad image: the upload's own message)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import Organisation, User
from examsys.audit.actions import AuditAction
from examsys.bank import assets
from examsys.delivery.models import Batch
from examsys.errors import Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import (
    Role,
    may_answer_finding,
    may_close_finding,
    may_supervise_batch,
    may_view_spot_check,
    oversees,
)
from examsys.supervision.checks.models import (
    DEFAULT_DAYS,
    CheckMode,
    FindingStatus,
    FindingStep,
    Severity,
    SpotCheck,
    SpotFinding,
    StepKind,
)
from examsys.supervision.indicators import versions

Upload = tuple[str, bytes]  # (file name, bytes)


def today() -> date:
    return clock.to_display(clock.now()).date()


def _photos(user: User, uploads: list[Upload]) -> list[str]:
    # The bank's upload path: checked, re-encoded, size-limited, stored by SHA-256.
    return [assets.store_image(user, user.organisation, name, data).sha256 for name, data in uploads if data]


def record_check(user: User, batch: Batch, *, mode: str, checklist: list[dict], summary: str,
                 checked_on: date | None = None) -> SpotCheck:
    """`checklist`: [{"code": indicator code, "ok": bool, "note": str}]. Raises NotFound (not the
    batch's supervisor) or ValidationError."""
    if not may_supervise_batch(user, batch):
        raise NotFound("未找到该评价批次")
    if mode not in {m.value for m in CheckMode}:
        raise ValidationError("请选择检查方式", field="mode")
    indicators = versions.current()
    rows = []
    for item in checklist:
        if indicators.get(item.get("code", "")) is None:
            raise ValidationError("未知的检查项目", field="checklist")
        rows.append({"code": item["code"], "ok": bool(item.get("ok")), "note": (item.get("note") or "").strip(),
                     "version": indicators.version})
    if not rows:
        raise ValidationError("请至少检查一项指标", field="checklist")
    check = SpotCheck(batch_id=batch.id, organisation_id=batch.organisation_id, supervisor_id=user.id, mode=mode,
                      checked_on=checked_on or today(), checklist=rows, summary=(summary or "").strip(),
                      created_at=clock.now())
    db.session.add(check)
    db.session.flush()
    audit.record(AuditAction.SPOT_CHECK_RECORDED, obj=check, organisation_id=batch.organisation_id,
                 data={"batch": batch.id, "mode": mode, "checklist": rows, "summary": check.summary})
    return check


def indicator_set_of(check: SpotCheck):
    """The version of the indicator system the check was recorded against (the one in force for
    checks recorded before versions were stored in the checklist)."""
    label = next((c.get("version") for c in check.checklist if c.get("version")), None)
    return (versions.by_label(label) if label else None) or versions.current()


def add_finding(user: User, check: SpotCheck, *, severity: str, text: str, indicator: str | None = None,
                photos: list[Upload] = (), due_on: date | None = None) -> SpotFinding:
    """Raises NotFound (not the check's supervisor) or ValidationError."""
    if check.supervisor_id != user.id or not may_supervise_batch(user, check.batch):
        raise NotFound("未找到该抽查记录")
    if severity not in {s.value for s in Severity}:
        raise ValidationError("请选择问题严重程度", field="severity")
    text = (text or "").strip()
    if not text:
        raise ValidationError("请描述发现的问题", field="text")
    if indicator and indicator_set_of(check).get(indicator) is None:
        raise ValidationError("未知的指标", field="indicator")
    due = due_on or check.checked_on + timedelta(days=DEFAULT_DAYS[Severity(severity)])
    row = SpotFinding(check_id=check.id, organisation_id=check.organisation_id, indicator=indicator or None,
                      severity=severity, text=text, photos=_photos(user, list(photos)), due_on=due,
                      status=FindingStatus.OPEN.value, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    db.session.expire(check, ["findings"])
    audit.record(AuditAction.SPOT_FINDING_RECORDED, obj=row, organisation_id=check.organisation_id,
                 data={"check": check.id, "severity": severity, "text": text, "indicator": row.indicator,
                       "photos": row.photos, "due_on": due.isoformat()})
    return row


def _step(user: User, finding: SpotFinding, kind: StepKind, text: str, evidence: list[str]) -> FindingStep:
    step = FindingStep(finding_id=finding.id, kind=kind.value, text=text, evidence=evidence, by_id=user.id,
                       at=clock.now())
    db.session.add(step)
    db.session.flush()
    db.session.expire(finding, ["steps"])
    return step


def answer(user: User, finding: SpotFinding, text: str, evidence: list[Upload] = ()) -> FindingStep:
    """The organisation's rectification (整改) with evidence. Raises PermissionDenied, Conflict
    (closed) or ValidationError."""
    may_answer_finding(user, finding).enforce()
    if finding.status == FindingStatus.CLOSED:
        raise Conflict("该问题已销号")
    text = (text or "").strip()
    if not text:
        raise ValidationError("请说明整改情况", field="text")
    step = _step(user, finding, StepKind.ANSWER, text, _photos(user, list(evidence)))
    finding.status = FindingStatus.ANSWERED.value
    db.session.flush()
    audit.record(AuditAction.SPOT_FINDING_ANSWERED, obj=finding, data={"text": text, "evidence": step.evidence})
    return step


def close(user: User, finding: SpotFinding, note: str) -> FindingStep:
    """The supervisor accepts the rectification. Raises PermissionDenied or Conflict (not answered)."""
    may_close_finding(user, finding.check).enforce()
    if finding.status != FindingStatus.ANSWERED:
        raise Conflict("机构尚未答复整改情况，不能销号")
    step = _step(user, finding, StepKind.CLOSE, (note or "").strip() or "整改到位", [])
    finding.status, finding.closed_at = FindingStatus.CLOSED.value, clock.now()
    db.session.flush()
    audit.record(AuditAction.SPOT_FINDING_CLOSED, obj=finding, data={"note": step.text})
    return step


def reopen(user: User, finding: SpotFinding, note: str, due_on: date | None = None) -> FindingStep:
    """The rectification is not enough: back to the organisation, optionally with a new deadline.
    Raises PermissionDenied, Conflict (open already) or ValidationError (no reason)."""
    may_close_finding(user, finding.check).enforce()
    if finding.status == FindingStatus.OPEN:
        raise Conflict("该问题尚在整改中")
    note = (note or "").strip()
    if not note:
        raise ValidationError("请说明重新打开的原因", field="note")
    step = _step(user, finding, StepKind.REOPEN, note, [])
    finding.status, finding.closed_at = FindingStatus.OPEN.value, None
    if due_on:
        finding.due_on = due_on
    db.session.flush()
    audit.record(AuditAction.SPOT_FINDING_REOPENED, obj=finding,
                 data={"note": note, "due_on": finding.due_on.isoformat()})
    return step


# --- reading -------------------------------------------------------------------------------------


def check_for(user: User, check_id: int) -> SpotCheck:
    """The check, for those who may see it (NotFound otherwise); a look from outside the checked
    organisation (city, province) is recorded."""
    check = db.session.get(SpotCheck, check_id)
    if check is None or not may_view_spot_check(user, check, check.organisation):
        raise NotFound("未找到该抽查记录")
    if user.organisation_id != check.organisation_id and check.supervisor_id != user.id:
        audit.record(AuditAction.SPOT_CHECK_VIEWED, obj=check, data={"viewer": user.id})
    return check


def finding_for(user: User, finding_id: int) -> SpotFinding:
    finding = db.session.get(SpotFinding, finding_id)
    if finding is None or not may_view_spot_check(user, finding.check, finding.check.organisation):
        raise NotFound("未找到该问题")
    return finding


def photo_path(user: User, finding: SpotFinding, sha256: str):
    """(path, mime) of a photo of the finding or of its evidence. Raises NotFound."""
    shas = set(finding.photos) | {s for step in finding.steps for s in step.evidence}
    if sha256 not in shas:
        raise NotFound("未找到该图片")
    row = db.session.get(assets.Asset, sha256)
    return assets.asset_path(sha256, dict(assets.FORMATS.values())[row.mime]), row.mime


def visible_checks(user: User) -> list[SpotCheck]:
    """The checks the user may see: the province all; a city its organisations'; a supervisor
    their own; an organisation its own."""
    stmt = select(SpotCheck).order_by(SpotCheck.checked_on.desc(), SpotCheck.id.desc())
    rows = list(db.session.scalars(stmt))
    return [c for c in rows if c.supervisor_id == user.id or oversees(user, c.organisation)
            or (c.organisation_id == user.organisation_id and user.has_role(Role.ORG_ADMIN))]


def checks_of(organisation: Organisation) -> list[SpotCheck]:
    return list(db.session.scalars(select(SpotCheck).where(SpotCheck.organisation_id == organisation.id)
                                   .order_by(SpotCheck.checked_on.desc())))


def overdue(user: User | None = None, on: date | None = None) -> list[SpotFinding]:
    """Findings past their deadline and not closed: every one for the province (user None), those
    of the city's organisations for a city administrator."""
    on = on or today()
    rows = db.session.scalars(select(SpotFinding).where(SpotFinding.status != FindingStatus.CLOSED.value,
                                                        SpotFinding.due_on < on).order_by(SpotFinding.due_on))
    return [f for f in rows if user is None or oversees(user, f.check.organisation)]
