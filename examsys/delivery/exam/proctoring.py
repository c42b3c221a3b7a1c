"""The proctor console (考场监控): who may use it for a batch, the live table per room, and the
proctors' actions — extra time, reopen, terminate for misconduct (违纪), incident notes — each
with a required reason, recorded as an Incident (the room's exam record, 考场记录) and audited.

Attempt changes themselves belong to the attempt engine (``attempts_admin``); this module calls
it and keeps the record. Reading the table changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from examsys import audit, clock
from examsys.accounts.models import User
from examsys.audit.actions import AuditAction
from examsys.delivery.batches.services import proctors_of
from examsys.delivery.exam import attempts_admin
from examsys.delivery.models import (
    Attempt,
    AttemptStatus,
    Batch,
    BatchRoom,
    BatchStaff,
    BatchState,
    Incident,
    IncidentKind,
    IntegrityEvent,
    RosterEntry,
    StaffRole,
)
from examsys.errors import Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import can_proctor, may_supervise_batch

NOT_STARTED = "not_started"
STATE_LABELS = {NOT_STARTED: "未开始", AttemptStatus.IN_PROGRESS.value: "作答中",
                AttemptStatus.SUBMITTED.value: "已交卷", AttemptStatus.TIMED_OUT.value: "超时收卷",
                AttemptStatus.TERMINATED.value: "违纪终止"}
INCIDENT_LABELS = {IncidentKind.NOTE: "情况记录", IncidentKind.EXTRA_TIME: "延长时间",
                   IncidentKind.REOPEN: "重新开放", IncidentKind.TERMINATE: "违纪终止"}
INCIDENT_ACTIONS = {IncidentKind.NOTE: AuditAction.INCIDENT_NOTED,
                    IncidentKind.EXTRA_TIME: AuditAction.INCIDENT_EXTRA_TIME_GRANTED,
                    IncidentKind.REOPEN: AuditAction.INCIDENT_ATTEMPT_REOPENED,
                    IncidentKind.TERMINATE: AuditAction.INCIDENT_ATTEMPT_TERMINATED}
LIVE_STATES = (BatchState.FILED, BatchState.OPEN, BatchState.CLOSED)
MAX_EXTRA_MINUTES = 120
MAX_EVENTS_SHOWN = 2000


# --- policy ---------------------------------------------------------------------------------------


def get_proctored(batch_id: int, user: User) -> Batch:
    """The batch for its console; NotFound for anyone but its proctors (never revealing it)."""
    batch = db.session.get(Batch, batch_id)
    if batch is None or not can_proctor(user, batch):
        raise NotFound("未找到该评价批次")
    return batch


def get_watched(batch_id: int, user: User) -> tuple[Batch, bool]:
    """The batch for its console and whether the user only watches it: its proctors act; the
    supervisor the authority assigned to it reads the same console (read-only, True); anyone
    else gets NotFound."""
    batch = db.session.get(Batch, batch_id)
    if batch is not None and can_proctor(user, batch):
        return batch, False
    if batch is not None and may_supervise_batch(user, batch):
        return batch, True
    raise NotFound("未找到该评价批次")


def proctored_batches(user: User) -> list[Batch]:
    ids = select(BatchStaff.batch_id).where(BatchStaff.user_id == user.id, BatchStaff.role == StaffRole.PROCTOR)
    return list(db.session.scalars(select(Batch).where(Batch.id.in_(ids), Batch.state.in_(LIVE_STATES))
                                   .order_by(Batch.window_start.desc())))


# --- the live table -------------------------------------------------------------------------------


@dataclass
class ConsoleRow:
    entry_id: int
    attempt_id: int | None
    ticket_no: str
    name: str
    seat: int | None
    state: str
    state_label: str
    last_seen_at: datetime | None
    answered: int
    flags: int
    remaining_seconds: int | None
    deadline_at: datetime | None

    def as_json(self) -> dict:
        return {"entry_id": self.entry_id, "attempt_id": self.attempt_id, "ticket_no": self.ticket_no,
                "name": self.name, "seat": self.seat, "state": self.state, "state_label": self.state_label,
                "last_seen_at": self.last_seen_at.isoformat() if self.last_seen_at else None,
                "last_seen": _hm(self.last_seen_at), "answered": self.answered, "flags": self.flags,
                "remaining_seconds": self.remaining_seconds,
                "deadline_at": self.deadline_at.isoformat() if self.deadline_at else None}


@dataclass
class RoomView:
    room: BatchRoom
    proctors: list[User]
    rows: list[ConsoleRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATE_LABELS, 0)
        for r in self.rows:
            out[r.state] += 1
        return out

    def as_json(self) -> dict:
        code = self.room.access_code if self.room.batch.require_access_code else None
        return {"id": self.room.id, "name": self.room.name, "access_code": code,
                "proctors": [u.display_name for u in self.proctors], "counts": self.counts,
                "rows": [r.as_json() for r in self.rows]}


def _hm(value: datetime | None) -> str:
    local = clock.to_display(value)
    return local.strftime("%H:%M:%S") if local else ""


def console(batch: Batch) -> list[RoomView]:
    """The live table: every roster entry by room and seat, with its attempt's state (read only)."""
    entries = db.session.scalars(select(RosterEntry).where(RosterEntry.batch_id == batch.id)
                                 .order_by(RosterEntry.seat_no, RosterEntry.ticket_no)).all()
    attempts = {a.roster_entry_id: a for a in db.session.scalars(
        select(Attempt).where(Attempt.batch_id == batch.id))}
    flags = dict(db.session.execute(
        select(IntegrityEvent.attempt_id, func.count()).join(Attempt, Attempt.id == IntegrityEvent.attempt_id)
        .where(Attempt.batch_id == batch.id).group_by(IntegrityEvent.attempt_id)).all())
    now = clock.now()
    views = {room.id: RoomView(room, [s.user for s in proctors_of(batch, room)]) for room in batch.rooms}
    for e in entries:
        view = views.get(e.room_id)
        if view is None:
            continue
        a = attempts.get(e.id)
        state = a.status.value if a else NOT_STARTED
        remaining = None
        if a is not None and a.status == AttemptStatus.IN_PROGRESS:
            remaining = max(0, int((a.deadline_at - now).total_seconds()))
        view.rows.append(ConsoleRow(
            entry_id=e.id, attempt_id=a.id if a else None, ticket_no=e.ticket_no, name=e.candidate.name,
            seat=e.seat_no, state=state, state_label=STATE_LABELS[state],
            last_seen_at=a.last_seen_at if a else None, answered=a.answered_count if a else 0,
            flags=flags.get(a.id, 0) if a else 0, remaining_seconds=remaining,
            deadline_at=a.deadline_at if a else None))
    return list(views.values())


def events_of(batch: Batch, attempt_id: int | None = None) -> list[tuple[IntegrityEvent, RosterEntry]]:
    """The integrity events behind the console's anomaly counts, each with whose they are: the
    batch's, or one attempt's (NotFound when the attempt is not the batch's), newest first."""
    stmt = (select(IntegrityEvent, RosterEntry).join(Attempt, Attempt.id == IntegrityEvent.attempt_id)
            .join(RosterEntry, RosterEntry.id == Attempt.roster_entry_id).where(Attempt.batch_id == batch.id)
            .order_by(IntegrityEvent.received_at.desc(), IntegrityEvent.id.desc()))
    if attempt_id is not None:
        stmt = stmt.where(IntegrityEvent.attempt_id == _attempt(batch, attempt_id).id)
    return [tuple(row) for row in db.session.execute(stmt.limit(MAX_EVENTS_SHOWN))]


def console_json(batch: Batch) -> dict:
    return {"batch": {"id": batch.id, "name": batch.name, "state": batch.state.value,
                      "state_label": batch.state_label},
            "server_time": clock.now().isoformat(),
            "rooms": [v.as_json() for v in console(batch)]}


# --- actions --------------------------------------------------------------------------------------


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError("请填写原因", field="reason")
    if len(text) > 1000:
        raise ValidationError("原因最多 1000 字", field="reason")
    return text


def _attempt(batch: Batch, attempt_id: int | None) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id) if attempt_id else None
    if attempt is None or attempt.batch_id != batch.id:
        raise NotFound("未找到该考生的作答记录")
    return attempt


def _room(batch: Batch, room_id: int | None) -> BatchRoom:
    room = next((r for r in batch.rooms if r.id == room_id), None)
    if room is None:
        raise NotFound("未找到该考场")
    return room


def _live(batch: Batch) -> None:
    if batch.state not in (BatchState.FILED, BatchState.OPEN):
        raise Conflict(f"批次当前状态为“{batch.state_label}”，不能再进行考场操作")


def _incident(actor: User, batch: Batch, kind: IncidentKind, reason: str, *, room_id: int | None,
              attempt: Attempt | None = None, data: dict | None = None) -> Incident:
    incident = Incident(batch_id=batch.id, room_id=room_id, attempt_id=attempt.id if attempt else None,
                        kind=kind, reason=reason, data=data or {}, recorded_by_id=actor.id,
                        recorded_at=clock.now())
    db.session.add(incident)
    db.session.flush()
    audit.record(INCIDENT_ACTIONS[kind], obj=incident, organisation_id=batch.organisation_id,
                 data={"batch_id": batch.id, "room_id": room_id, "attempt_id": incident.attempt_id,
                       "reason": reason, **(data or {})})
    return incident


def _last_incident(batch: Batch, kind: IncidentKind) -> Incident | None:
    db.session.flush()
    return db.session.scalar(select(Incident).where(Incident.batch_id == batch.id, Incident.kind == kind)
                             .order_by(Incident.id.desc()).limit(1))


def extend_time(actor: User, batch: Batch, *, minutes: int, reason: str, attempt_id: int | None = None,
                room_id: int | None = None) -> Incident | None:
    """Extra time for one attempt, every running attempt of a room, or (neither given) the whole
    batch. Raises ValidationError (no reason, minutes out of 1–120), NotFound, Conflict."""
    reason = _reason(reason)
    _live(batch)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not (1 <= minutes <= MAX_EXTRA_MINUTES):
        raise ValidationError(f"延长时间须为 1～{MAX_EXTRA_MINUTES} 分钟", field="minutes")
    # The attempt engine records the Incident and the audit event itself: the console adds neither.
    engine = attempts_admin
    if attempt_id:
        engine.grant_extension(actor, batch=batch, attempt=_attempt(batch, attempt_id), minutes=minutes,
                               reason=reason)
    elif room_id:
        room = _room(batch, room_id)
        running = db.session.scalars(select(Attempt).join(RosterEntry, RosterEntry.id == Attempt.roster_entry_id)
                                     .where(Attempt.batch_id == batch.id, RosterEntry.room_id == room.id,
                                            Attempt.status == AttemptStatus.IN_PROGRESS)).all()
        if not running:
            raise Conflict(f"考场“{room.name}”没有正在作答的考生")
        for attempt in running:
            engine.grant_extension(actor, batch=batch, attempt=attempt, minutes=minutes, reason=reason)
    else:
        engine.grant_extension(actor, batch=batch, attempt=None, minutes=minutes, reason=reason)
    return _last_incident(batch, IncidentKind.EXTRA_TIME)


def reopen(actor: User, batch: Batch, *, attempt_id: int, reason: str) -> Incident | None:
    reason = _reason(reason)
    _live(batch)
    attempts_admin.reopen(actor, _attempt(batch, attempt_id), reason=reason)
    return _last_incident(batch, IncidentKind.REOPEN)


def terminate(actor: User, batch: Batch, *, attempt_id: int, reason: str) -> Incident | None:
    reason = _reason(reason)
    _live(batch)
    attempts_admin.terminate(actor, _attempt(batch, attempt_id), reason=reason)
    return _last_incident(batch, IncidentKind.TERMINATE)


def act(actor: User, batch: Batch, action: str, *, reason: str, attempt_id: int | None = None,
        room_id: int | None = None, minutes: int = 0, scope: str = "attempt") -> Incident | None:
    """One action from the proctor console: "extend" (extra time for the attempt, the room or,
    with scope "batch", everyone), "reopen", "terminate", or "note". Raises what each raises."""
    if action == "extend":
        return extend_time(actor, batch, minutes=minutes, reason=reason,
                           attempt_id=attempt_id if scope == "attempt" else None,
                           room_id=room_id if scope == "room" else None)
    if action == "reopen":
        return reopen(actor, batch, attempt_id=attempt_id, reason=reason)
    if action == "terminate":
        return terminate(actor, batch, attempt_id=attempt_id, reason=reason)
    return note(actor, batch, reason=reason, room_id=room_id, attempt_id=attempt_id)


def note(actor: User, batch: Batch, *, reason: str, room_id: int | None = None,
         attempt_id: int | None = None) -> Incident:
    """An incident note (考场情况记录) for a room, optionally about one candidate's attempt."""
    reason = _reason(reason)
    attempt = _attempt(batch, attempt_id) if attempt_id else None
    if attempt is not None:
        room_id = attempt.roster_entry.room_id
    elif room_id:
        room_id = _room(batch, room_id).id
    return _incident(actor, batch, IncidentKind.NOTE, reason, room_id=room_id, attempt=attempt)


def incidents(batch: Batch, room: BatchRoom | None = None) -> list[Incident]:
    stmt = select(Incident).where(Incident.batch_id == batch.id)
    if room is not None:
        stmt = stmt.where((Incident.room_id == room.id) | (Incident.room_id.is_(None)))
    return list(db.session.scalars(stmt.order_by(Incident.recorded_at, Incident.id)))


@dataclass
class RoomRecord:
    """What the room's exam record (考场记录) prints."""

    room: BatchRoom
    proctors: list[User]
    expected: int  # 应考
    present: int  # 实考
    absent: int  # 缺考
    misconduct: int  # 违纪
    first_start: datetime | None
    last_finish: datetime | None
    incidents: list[Incident]
    rows: list[ConsoleRow]


def room_record(batch: Batch, room: BatchRoom) -> RoomRecord:
    view = next(v for v in console(batch) if v.room.id == room.id)
    attempts = db.session.scalars(select(Attempt).join(RosterEntry, RosterEntry.id == Attempt.roster_entry_id)
                                  .where(Attempt.batch_id == batch.id, RosterEntry.room_id == room.id)).all()
    present = sum(1 for r in view.rows if r.state != NOT_STARTED)
    return RoomRecord(
        room=room, proctors=view.proctors, expected=len(view.rows), present=present,
        absent=len(view.rows) - present,
        misconduct=sum(1 for r in view.rows if r.state == AttemptStatus.TERMINATED.value),
        first_start=min((a.started_at for a in attempts), default=None),
        last_finish=max((a.finished_at for a in attempts if a.finished_at), default=None),
        incidents=incidents(batch, room), rows=view.rows)
