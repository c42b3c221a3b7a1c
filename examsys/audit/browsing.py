"""Browsing and exporting the process record: the filters a person sets (Beijing-time dates,
person, organisation, batch, candidate, kind of action, free text), the statement they build
within what the viewer may see (examsys.tenancy.scoped: one's own organisation, all for the
province), a page of readable events, and the xlsx/CSV export of the filtered events, itself
recorded as an event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import Select, String, Text, cast, func, literal, or_, select

from examsys import clock
from examsys.accounts.models import Organisation, User
from examsys.audit import exporting
from examsys.audit.actions import AuditAction
from examsys.audit.labels import object_label
from examsys.audit.models import AuditEvent
from examsys.audit.presenting import PresentedEvent, present
from examsys.audit.services import record
from examsys.delivery.models import Attempt, Batch, RosterEntry
from examsys.errors import ValidationError
from examsys.extensions import db
from examsys.permissions import declared_access, has_permission, sees_all_organisations
from examsys.tenancy import scoped

PER_PAGE = 50
EXPORT_CAP = 100_000
EXPORT_CHUNK = 1_000
BATCH_CHOICES = 300  # the batch filter lists the most recent ones


@dataclass(frozen=True)
class Filters:
    """What the person asked for; empty fields filter nothing. `problems` says which input was
    ignored and why."""

    date_from: date | None = None
    date_to: date | None = None
    person: str = ""
    organisation_id: int | None = None
    batch_id: int | None = None
    ticket: str = ""
    action: str = ""
    text: str = ""
    problems: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        problems: list[str] = []

        def day(name: str, what: str) -> date | None:
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                problems.append(f"{what}“{raw[:20]}”不是有效日期（例如 2026-12-03），已忽略")
                return None

        def number(name: str) -> int | None:
            raw = (args.get(name) or "").strip()
            return int(raw) if raw.isdigit() else None

        action = (args.get("action") or "").strip()
        if action and action not in AuditAction._value2member_map_ and not (
                action.endswith(".") and any(a.value.startswith(action) for a in AuditAction)):
            problems.append(f"操作类型“{action[:40]}”不存在，已忽略")
            action = ""
        return cls(date_from=day("from", "开始日期"), date_to=day("to", "结束日期"),
                   person=(args.get("person") or "").strip()[:64], organisation_id=number("org"),
                   batch_id=number("batch"), ticket=(args.get("ticket") or "").strip()[:32], action=action,
                   text=(args.get("q") or "").strip()[:100], problems=tuple(problems))

    def query_args(self) -> dict[str, str]:
        """The filters as query arguments (for pagination and export links), empty ones left out."""
        out = {"from": self.date_from.isoformat() if self.date_from else "",
               "to": self.date_to.isoformat() if self.date_to else "", "person": self.person,
               "org": str(self.organisation_id or ""), "batch": str(self.batch_id or ""), "ticket": self.ticket,
               "action": self.action, "q": self.text}
        return {k: v for k, v in out.items() if v}


def _start_of(day: date) -> datetime:
    """The UTC instant a Beijing-time day starts."""
    return datetime.combine(day, time.min, tzinfo=clock.DISPLAY_TZ).astimezone(UTC)


def _scope(kind: str, id_column) -> Any:
    """SQL for the scope name `kind/<id>` (examsys.audit.chain) of each row's id."""
    return literal(f"{kind}/").concat(cast(id_column, String))


def _candidate_condition(user: Any, ticket: str):
    """Events of the candidate's attempt chain, staff actions on that attempt and on their roster
    entry, and what they did themselves (signing in, failed sign-ins with that ticket)."""
    entries = select(RosterEntry.id).join(Batch, Batch.id == RosterEntry.batch_id).where(
        RosterEntry.ticket_no == ticket)
    if not sees_all_organisations(user):
        entries = entries.where(Batch.organisation_id == user.organisation_id)
    mine = Attempt.roster_entry_id.in_(entries)
    return or_(
        AuditEvent.scope.in_(select(_scope("attempt", Attempt.id)).where(mine)),
        AuditEvent.scope.in_(select(_scope("entry", RosterEntry.id)).where(RosterEntry.id.in_(entries))),
        (AuditEvent.object_type == "attempt") & AuditEvent.object_id.in_(select(cast(Attempt.id, String)).where(mine)),
        (AuditEvent.object_type == "roster_entry") & AuditEvent.object_id.in_(
            select(cast(RosterEntry.id, String)).where(RosterEntry.id.in_(entries))),
        AuditEvent.actor_label == f"candidate:{ticket}",
    )


def _text_condition(text: str):
    escaped = json.dumps(text)[1:-1]  # how non-ASCII text sits in JSON stored as text (SQLite)
    data = cast(AuditEvent.data, Text)
    labelled = [a.value for a in AuditAction if text in a.label]
    conditions = [AuditEvent.actor_label.icontains(text, autoescape=True),
                  AuditEvent.object_id == text, AuditEvent.ip.icontains(text, autoescape=True),
                  AuditEvent.scope == text, AuditEvent.entry_hash.startswith(text.lower(), autoescape=True),
                  data.icontains(text, autoescape=True)]
    if escaped != text:
        conditions.append(data.icontains(escaped, autoescape=True))
    if labelled:
        conditions.append(AuditEvent.action.in_(labelled))
    return or_(*conditions)


def statement(user: Any, filters: Filters) -> Select:
    """SELECT of the events `user` may see that match `filters`, newest first."""
    stmt = scoped(AuditEvent, user)
    if filters.date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= _start_of(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEvent.occurred_at < _start_of(filters.date_to + timedelta(days=1)))
    if filters.person:
        named = select(User.id).where(or_(User.display_name.icontains(filters.person, autoescape=True),
                                          User.username.icontains(filters.person, autoescape=True)))
        stmt = stmt.where(or_(AuditEvent.actor_label.icontains(filters.person, autoescape=True),
                              AuditEvent.actor_user_id.in_(named)))
    if filters.organisation_id and sees_all_organisations(user):
        stmt = stmt.where(AuditEvent.organisation_id == filters.organisation_id)
    if filters.batch_id:
        attempts = select(_scope("attempt", Attempt.id)).where(Attempt.batch_id == filters.batch_id)
        entries = select(_scope("entry", RosterEntry.id)).where(RosterEntry.batch_id == filters.batch_id)
        stmt = stmt.where(or_(AuditEvent.scope == f"batch/{filters.batch_id}", AuditEvent.scope.in_(attempts),
                              AuditEvent.scope.in_(entries)))
    if filters.ticket:
        stmt = stmt.where(_candidate_condition(user, filters.ticket))
    if filters.action.endswith("."):
        stmt = stmt.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    elif filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.text:
        stmt = stmt.where(_text_condition(filters.text))
    return stmt.order_by(AuditEvent.id.desc())


# --- the page --------------------------------------------------------------------------------


def linker(user: Any) -> Callable[[str, dict], str | None]:
    """endpoint, arguments → URL, when the app has that page and `user` holds what it requires."""
    views = current_app.view_functions

    def link(endpoint: str, args: dict) -> str | None:
        access = declared_access(views.get(endpoint))
        if access is None:
            return None
        kind, perms = access
        if kind == "permission" and not all(has_permission(user, p) for p in perms):
            return None
        return url_for(endpoint, **args)

    return link


def action_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The kinds of action for the filter: (object label, [(value, label)]) in vocabulary order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for action in AuditAction:
        groups.setdefault(action.object_type, []).append((action.value, action.label))
    return [(object_label(kind), [(f"{kind}.", f"全部{object_label(kind)}操作"), *actions])
            for kind, actions in groups.items()]


@dataclass
class LogPage:
    rows: Any  # the Pagination
    events: list[PresentedEvent]
    filters: Filters
    province: bool = False  # the viewer sees every organisation (and may filter by one)
    organisations: list[tuple[int, str]] = field(default_factory=list)
    batches: list[tuple[int, str]] = field(default_factory=list)
    actions: list = field(default_factory=list)


def browse(user: Any, filters: Filters, page: int) -> LogPage:
    """One page of the events `user` may see that match `filters`, readable, with the choices
    the filter form offers (organisations only for the province)."""
    rows = db.paginate(statement(user, filters), page=max(page, 1), per_page=PER_PAGE, error_out=False)
    events = present(db.session, list(rows.items), linker(user))
    province = sees_all_organisations(user)
    orgs = list(db.session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))) \
        if province else []
    batches = list(db.session.execute(scoped(Batch, user, select(Batch.id, Batch.name))
                                      .order_by(Batch.window_start.desc(), Batch.id.desc()).limit(BATCH_CHOICES)))
    return LogPage(rows=rows, events=events, filters=filters, province=province, organisations=[tuple(o) for o in orgs],
                   batches=[tuple(b) for b in batches], actions=action_groups())


# --- export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str
    mimetype: str


def export(user: Any, filters: Filters, fmt: str) -> Export:
    """The filtered events as an xlsx or CSV file with the page's readable columns; the export
    is recorded (audit_log.exported) with its format, size and filters.

    Raises ValidationError for an unknown format or more than EXPORT_CAP events."""
    if fmt not in exporting.FORMATS:
        raise ValidationError("导出格式只能是 xlsx 或 csv", field="format")
    stmt = statement(user, filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    if total > EXPORT_CAP:
        raise ValidationError(f"符合条件的记录有 {total} 条，超过一次导出的上限 {EXPORT_CAP} 条；"
                              f"请缩小时间范围或增加筛选条件后分批导出")

    def rows():
        last_id = None
        while True:
            chunk = stmt if last_id is None else stmt.where(AuditEvent.id < last_id)
            events = list(db.session.scalars(chunk.limit(EXPORT_CHUNK)))
            if not events:
                return
            yield from present(db.session, events)
            last_id = events[-1].id

    stamp = clock.to_display(clock.now()).strftime("%Y%m%d-%H%M%S")
    data = exporting.build(fmt, rows())
    record(AuditAction.AUDIT_LOG_EXPORTED, object_type="audit_log",
           data={"format": fmt, "rows": total, "filters": filters.query_args()})
    return Export(data=data, filename=f"过程记录-{stamp}.{fmt}", mimetype=exporting.FORMATS[fmt])

