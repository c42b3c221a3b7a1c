"""The directory's operations: file an organisation (备案), change its scope, expiry or status
with a reason (every change kept in DirectoryChange and recorded in the process log), list and
export the directory. Services flush; the request commits. Raises PermissionDenied (another
city's organisation), ValidationError (bad input, no reason) or Conflict (filed already)."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import City, Organisation, OrgKind, User
from examsys.audit.actions import AuditAction
from examsys.errors import Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import may_manage_directory
from examsys.standards.models import LEVELS
from examsys.supervision.directory.models import (
    DIRECTORY_STATUS_LABELS,
    ChangeKind,
    DirectoryChange,
    DirectoryEntry,
    DirectoryStatus,
)
from examsys.supervision.directory.scope import entry_of


def clean_scope(scope: list[dict]) -> list[dict]:
    """[{"occupation", "name", "levels"}] checked and normalised. Raises ValidationError."""
    out, seen = [], set()
    for n, row in enumerate(scope or [], 1):
        code = str(row.get("occupation") or "").strip()
        levels = sorted({int(v) for v in row.get("levels") or []})
        if not code:
            raise ValidationError(f"评价范围第 {n} 行：缺少职业编码", field="scope")
        if not levels or any(v not in LEVELS for v in levels):
            raise ValidationError(f"评价范围第 {n} 行（{code}）：等级须为 1～5 级", field="scope")
        if code in seen:
            raise ValidationError(f"评价范围中职业 {code} 重复", field="scope")
        seen.add(code)
        out.append({"occupation": code, "name": str(row.get("name") or code).strip(), "levels": levels})
    return out


def parse_scope(text: str) -> list[dict]:
    """The form's scope, one occupation a line: `6-31-01-03 电工 3,4,5`. Raises ValidationError."""
    rows = []
    for n, line in enumerate((text or "").splitlines(), 1):
        parts = line.replace("，", ",").split()
        if not parts:
            continue
        if len(parts) < 2:
            raise ValidationError(f"评价范围第 {n} 行格式应为：职业编码 职业名称 等级（如 6-31-01-03 电工 3,4,5）",
                                  field="scope")
        try:
            levels = [int(v) for v in parts[-1].split(",") if v.strip()]
        except ValueError as exc:
            raise ValidationError(f"评价范围第 {n} 行：等级应为数字，用逗号分隔", field="scope") from exc
        rows.append({"occupation": parts[0], "name": " ".join(parts[1:-1]) or parts[0], "levels": levels})
    return clean_scope(rows)


def scope_text(entry: DirectoryEntry | None) -> str:
    if entry is None:
        return ""
    return "\n".join(f"{s['occupation']} {s['name']} {','.join(str(v) for v in s['levels'])}" for s in entry.scope)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写变更原因", field="reason")
    return reason


def _snapshot(entry: DirectoryEntry) -> dict:
    return {"filing_no": entry.filing_no, "scope": entry.scope, "filed_on": entry.filed_on.isoformat(),
            "expires_on": entry.expires_on.isoformat(), "status": entry.status}


def _log(actor: User | None, entry: DirectoryEntry, kind: ChangeKind, before: dict, after: dict,
         reason: str) -> DirectoryChange:
    row = DirectoryChange(entry_id=entry.id, kind=kind.value, before=before, after=after, reason=reason,
                          actor_id=actor.id if actor else None, changed_at=clock.now())
    db.session.add(row)
    entry.updated_at = row.changed_at
    db.session.flush()
    db.session.expire(entry, ["changes"])
    action = AuditAction.DIRECTORY_ENTRY_FILED if kind == ChangeKind.FILED else AuditAction.DIRECTORY_ENTRY_CHANGED
    audit.record(action, obj=entry, organisation_id=entry.organisation_id,
                 data={"kind": kind.value, "before": before, "after": after, "reason": reason})
    return row


def file_organisation(actor: User | None, org: Organisation, *, filing_no: str, scope: list[dict], filed_on: date,
                      expires_on: date, reason: str = "评价前备案") -> DirectoryEntry:
    """Put an organisation into the directory, active. Raises PermissionDenied, Conflict (filed
    already: change it instead) or ValidationError."""
    may_manage_directory(actor, org).enforce()
    if org.kind == OrgKind.AUTHORITY:
        raise ValidationError("人社部门不是评价机构，不列入评价机构目录")
    if entry_of(org.id) is not None:
        raise Conflict(f"{org.name} 已在目录中，请办理变更")
    if not (filing_no or "").strip():
        raise ValidationError("请填写备案编号", field="filing_no")
    if expires_on <= filed_on:
        raise ValidationError("备案有效期须晚于备案日期", field="expires_on")
    entry = DirectoryEntry(organisation_id=org.id, filing_no=filing_no.strip(), scope=clean_scope(scope),
                           filed_on=filed_on, expires_on=expires_on, status=DirectoryStatus.ACTIVE.value,
                           updated_at=clock.now())
    db.session.add(entry)
    db.session.flush()
    _log(actor, entry, ChangeKind.FILED, {}, _snapshot(entry), (reason or "").strip() or "评价前备案")
    return entry


def change(actor: User | None, entry: DirectoryEntry, *, reason: str, status: str | None = None,
           scope: list[dict] | None = None, expires_on: date | None = None) -> list[DirectoryChange]:
    """Change the status, scope and/or expiry, each kept as its own change with the reason.
    Raises PermissionDenied, ValidationError (no reason, unknown status, bad scope) or Conflict
    (nothing changes)."""
    may_manage_directory(actor, entry.organisation).enforce()
    reason = _reason(reason)
    rows = []
    if status is not None and status != entry.status:
        if status not in {s.value for s in DirectoryStatus}:
            raise ValidationError("未知的目录状态", field="status")
        before, entry.status = entry.status, status
        rows.append(_log(actor, entry, ChangeKind.STATUS, {"status": before}, {"status": status}, reason))
    if scope is not None:
        scope = clean_scope(scope)
        if scope != entry.scope:
            before_scope, entry.scope = entry.scope, scope
            rows.append(_log(actor, entry, ChangeKind.SCOPE, {"scope": before_scope}, {"scope": scope}, reason))
    if expires_on is not None and expires_on != entry.expires_on:
        if expires_on <= entry.filed_on:
            raise ValidationError("备案有效期须晚于备案日期", field="expires_on")
        before_exp, entry.expires_on = entry.expires_on, expires_on
        rows.append(_log(actor, entry, ChangeKind.EXPIRY, {"expires_on": before_exp.isoformat()},
                         {"expires_on": expires_on.isoformat()}, reason))
    if not rows:
        raise Conflict("没有需要变更的内容")
    return rows


def entries(city_id: int | None = None, status: str | None = None) -> list[DirectoryEntry]:
    stmt = (select(DirectoryEntry).join(Organisation, Organisation.id == DirectoryEntry.organisation_id)
            .join(City, City.id == Organisation.city_id).order_by(City.code, Organisation.code))
    if city_id:
        stmt = stmt.where(Organisation.city_id == city_id)
    if status:
        stmt = stmt.where(DirectoryEntry.status == status)
    return list(db.session.scalars(stmt))


def get_entry(entry_id: int) -> DirectoryEntry:
    entry = db.session.get(DirectoryEntry, entry_id)
    if entry is None:
        raise NotFound("未找到该备案记录")
    return entry


def unfiled_organisations(actor: User) -> list[Organisation]:
    """Evaluation organisations the actor may file that are not in the directory yet."""
    filed = set(db.session.scalars(select(DirectoryEntry.organisation_id)))
    return [o for o in db.session.scalars(select(Organisation).where(Organisation.kind != OrgKind.AUTHORITY)
                                          .order_by(Organisation.code))
            if o.id not in filed and may_manage_directory(actor, o)]


EXPORT_HEADER = ["城市", "机构代码", "机构名称", "机构类型", "备案编号", "评价范围", "备案日期", "有效期至", "目录状态"]


def export_rows(rows: list[DirectoryEntry]) -> list[list[str]]:
    return [[e.organisation.city.name, e.organisation.code, e.organisation.name, e.organisation.kind_label,
             e.filing_no, e.scope_label(), e.filed_on.isoformat(), e.expires_on.isoformat(),
             DIRECTORY_STATUS_LABELS[DirectoryStatus(e.status)]] for e in rows]


def export_xlsx(rows: list[DirectoryEntry]) -> bytes:
    import openpyxl  # heavy: only the export needs it

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "评价机构目录"
    sheet.append(EXPORT_HEADER)
    for row in export_rows(rows):
        sheet.append(row)
    for col, width in zip("ABCDEFGHI", (10, 14, 30, 18, 18, 48, 12, 12, 12), strict=True):
        sheet.column_dimensions[col].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
