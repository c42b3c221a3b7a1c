"""The life of an evaluation batch (评价批次): creating and editing it while planned, filing it
(评价前备案; its checks are examsys.delivery.batches.checks), the state table (planned → filed →
open → closed → marked → reviewed → published → archived) and closing.

Services flush and record one audit event per change; the request commits. Filed batches change
only through ``filing.change`` (备案变更). Every state change sends `batch_state_changed` (and
`batch_closed` on closing)."""

from __future__ import annotations

from sqlalchemy import select

from examsys import audit, clock, signals
from examsys.accounts.models import Organisation, User
from examsys.assembly.models import Paper
from examsys.audit.actions import AuditAction
from examsys.delivery.batches.checks import filing_problems, paper_problems, per_candidate_problem
from examsys.delivery.batches.common import (
    FLAG_SETTINGS,
    SETTINGS_BOUNDS,
    TRANSITIONS,
    BatchInput,
    RoomInput,
    local_date,
    markers_of,
    new_access_code,
    proctors_of,
)
from examsys.delivery.batches.rosters import assign_forms
from examsys.delivery.models import (
    Attempt,
    AttemptStatus,
    Batch,
    BatchRoom,
    BatchStaff,
    BatchState,
    RosterEntry,
    StaffRole,
)
from examsys.delivery.models.batches import BATCH_STATE_LABELS
from examsys.errors import Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import may_staff_batch
from examsys.standards.models import LEVELS, Standard
from examsys.supervision.directory import scope as directory_scope

# --- create / update while planned ---------------------------------------------------------------


def _user(user_id: int, what: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise ValidationError(f"{what}不存在（用户编号 {user_id}）")
    return user


def _check_input(org: Organisation, data: BatchInput) -> tuple[Standard, Paper | None]:
    errors: list[str] = []
    standard = db.session.get(Standard, data.standard_id)
    if standard is None:
        raise ValidationError("未找到该职业标准", field="standard_id")
    if data.level not in (standard.levels or []):
        errors.append(f"职业标准“{standard.name}”没有{LEVELS.get(data.level, data.level)}等级")
    elif refused := directory_scope.refusal(org.id, standard.code, standard.name, data.level,
                                            local_date(data.window_start)):
        errors.append(refused)
    if not data.name.strip():
        errors.append("批次名称不能为空")
    if data.window_end <= data.window_start:
        errors.append("考试结束时间须晚于开始时间")
    paper = None
    if data.paper_id:
        paper = db.session.get(Paper, data.paper_id)
        if paper is None or paper.organisation_id != org.id:
            errors.append("未找到所选试卷")
        else:
            errors += paper_problems(paper, data.standard_id, data.level)
    for key, (low, high, label) in SETTINGS_BOUNDS.items():
        value = data.settings.get(key)
        if value is not None and not (low <= int(value) <= high):
            errors.append(f"{label}须在 {low}～{high} 之间")
    if data.duration_minutes is not None and not (1 <= data.duration_minutes <= 600):
        errors.append("考试时长须在 1～600 分钟之间")
    names = [r.name.strip() for r in data.rooms]
    if any(not n for n in names):
        errors.append("考场名称不能为空")
    if len(set(names)) != len(names):
        errors.append("考场名称不能重复")
    for r in data.rooms:
        if not (1 <= r.capacity <= 500):
            errors.append(f"考场“{r.name}”的座位数须在 1～500 之间")
    seen: dict[int, str] = {}
    for r in data.rooms:
        for uid in r.proctor_ids:
            user = _user(uid, "考评员")
            allowed = may_staff_batch(user, org.id, "proctor")
            if not allowed:
                errors.append(allowed.message)
            if uid in seen:
                errors.append(f"考评员 {user.display_name} 同时安排在考场“{seen[uid]}”和“{r.name}”")
            seen[uid] = r.name
    for uid in data.marker_ids:
        allowed = may_staff_batch(_user(uid, "阅卷人"), org.id, "marker")
        if not allowed:
            errors.append(allowed.message)
    if errors:
        raise ValidationError("；".join(errors), details={"errors": errors})
    return standard, paper


def snapshot(batch: Batch) -> dict:
    """The batch as plain data, for audit diffs and filing changes."""
    return {
        "name": batch.name, "venue": batch.venue, "standard_id": batch.standard_id, "level": batch.level,
        "window_start": batch.window_start.isoformat(), "window_end": batch.window_end.isoformat(),
        "paper_id": batch.paper_id, "duration_minutes": batch.duration_minutes,
        "supervisor_id": batch.supervisor_id,
        **{k: getattr(batch, k) for k in SETTINGS_BOUNDS if k != "duration_minutes"},
        **{k: getattr(batch, k) for k in FLAG_SETTINGS},
        "seb_config_key": batch.seb_config_key,
        "rooms": [{"name": r.name, "capacity": r.capacity,
                   "proctors": sorted(s.user_id for s in proctors_of(batch, r))} for r in batch.rooms],
        "markers": sorted(s.user_id for s in markers_of(batch)),
    }


def diff(before: dict, after: dict) -> dict:
    return {k: {"before": before.get(k), "after": after.get(k)}
            for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


def _apply(batch: Batch, data: BatchInput, paper: Paper | None) -> None:
    batch.standard_id, batch.level = data.standard_id, data.level
    batch.name, batch.venue = data.name.strip(), data.venue.strip()
    batch.window_start, batch.window_end = data.window_start, data.window_end
    batch.paper_id = paper.id if paper is not None else None
    if data.duration_minutes:
        batch.duration_minutes = data.duration_minutes
    elif paper is not None:
        batch.duration_minutes = int(paper.blueprint_snapshot.get("duration_minutes") or 90)
    for key in SETTINGS_BOUNDS:
        if key != "duration_minutes" and data.settings.get(key) is not None:
            setattr(batch, key, int(data.settings[key]))
    for key in FLAG_SETTINGS:
        if key in data.settings:
            setattr(batch, key, bool(data.settings[key]))
    if "seb_config_key" in data.settings:
        key = (data.settings["seb_config_key"] or "").strip().lower()
        if key and (len(key) != 64 or any(c not in "0123456789abcdef" for c in key)):
            raise ValidationError("安全考试浏览器配置密钥应为 64 位十六进制（SHA-256）", field="seb_config_key")
        batch.seb_config_key = key or None
    _set_rooms_and_staff(batch, data.rooms, data.marker_ids)


def _set_rooms_and_staff(batch: Batch, rooms: list[RoomInput], marker_ids: list[int]) -> None:
    by_name = {r.name: r for r in batch.rooms}
    wanted = [r.name.strip() for r in rooms]
    occupied = {e.room_id for e in batch.roster if e.room_id is not None}
    for room in list(batch.rooms):
        if room.name not in wanted:
            if room.id in occupied:
                raise Conflict(f"考场“{room.name}”已安排考生，不能删除")
            for s in proctors_of(batch, room):
                batch.staff.remove(s)
            batch.rooms.remove(room)
    for pos, r in enumerate(rooms):
        room = by_name.get(r.name.strip())
        if room is None:
            room = BatchRoom(name=r.name.strip(), access_code=new_access_code())
            batch.rooms.append(room)
        room.position, room.capacity = pos, r.capacity
    db.session.flush()
    set_staff(batch, {next(x for x in batch.rooms if x.name == r.name.strip()).id: list(r.proctor_ids)
                       for r in rooms}, marker_ids)


def set_staff(batch: Batch, proctors: dict[int, list[int]], marker_ids: list[int]) -> None:
    """Replace the proctors (per room id) and markers, keeping unchanged rows."""
    want = {(uid, StaffRole.PROCTOR): rid for rid, uids in proctors.items() for uid in uids}
    want |= {(uid, StaffRole.MARKER): None for uid in marker_ids}
    have = {(s.user_id, s.role): s for s in batch.staff if s.role in (StaffRole.PROCTOR, StaffRole.MARKER)}
    for key, s in have.items():
        if key not in want:
            batch.staff.remove(s)
        else:
            s.room_id = want[key]
    db.session.flush()  # the unique (batch, user, role) must be free before re-adding
    for (uid, role), rid in want.items():
        if (uid, role) not in have:
            batch.staff.append(BatchStaff(user_id=uid, role=role, room_id=rid))
    db.session.flush()


def create_batch(actor: User, org: Organisation, data: BatchInput) -> Batch:
    """A new batch in PLANNED. Raises ValidationError listing every problem of the input."""
    _standard, paper = _check_input(org, data)
    batch = Batch(organisation_id=org.id, created_by_id=actor.id, state=BatchState.PLANNED,
                  standard_id=data.standard_id, level=data.level, name=data.name, venue=data.venue,
                  window_start=data.window_start, window_end=data.window_end)
    db.session.add(batch)
    db.session.flush()
    _apply(batch, data, paper)
    db.session.flush()
    audit.record(AuditAction.BATCH_CREATED, obj=batch, data=snapshot(batch))
    return batch


def update_batch(actor: User, batch: Batch, data: BatchInput, *, expected_version: int | None = None) -> Batch:
    """Edit a PLANNED batch. Raises Conflict once filed (use filing.change) or when someone else
    saved meanwhile; ValidationError for bad input."""
    if batch.state != BatchState.PLANNED:
        raise Conflict("批次已备案，不能直接修改；请通过“备案变更”提出变更并说明原因")
    if expected_version is not None and expected_version != batch.version:
        raise Conflict("该批次已被他人修改，请刷新后重试")
    org = db.session.get(Organisation, batch.organisation_id)
    _standard, paper = _check_input(org, data)
    if paper is not None and (problem := per_candidate_problem(paper, len(batch.roster))):
        raise ValidationError(problem, details={"errors": [problem]})
    before = snapshot(batch)
    paper_changed = batch.paper_id != (paper.id if paper else None)
    _apply(batch, data, paper)
    if paper_changed:
        assign_forms(batch)
    db.session.flush()
    changes = diff(before, snapshot(batch))
    if changes:
        audit.record(AuditAction.BATCH_UPDATED, obj=batch, data={"changes": changes})
    return batch


# --- filing (评价前备案) ---------------------------------------------------------------------------


def file_batch(actor: User, batch: Batch) -> Batch:
    """PLANNED → FILED: roster, paper and staff are locked. Raises Conflict in another state,
    ValidationError with every refusal reason (details["errors"]) when a check fails."""
    if batch.state != BatchState.PLANNED:
        raise Conflict(f"批次当前状态为“{batch.state_label}”，不能备案")
    problems = filing_problems(batch)
    if problems:
        raise ValidationError("备案未通过：" + "；".join(problems), details={"errors": problems})
    batch.state = BatchState.FILED
    batch.filed_at = clock.now()
    db.session.flush()
    audit.record(AuditAction.BATCH_FILED, obj=batch, data={"candidates": len(batch.roster), "paper_id": batch.paper_id,
                                                "rooms": len(batch.rooms), "snapshot": snapshot(batch)})
    signals.batch_state_changed.send(batch, old=BatchState.PLANNED, new=BatchState.FILED)
    return batch


# --- state changes ---------------------------------------------------------------------------------


def transition(batch: Batch, to_state: BatchState, *, data: dict | None = None) -> Batch:
    """Move `batch` to `to_state` along TRANSITIONS, with an audit event. Raises Conflict for an
    illegal change. Grading and result review call this for marked / reviewed / published."""
    to_state = BatchState(to_state)
    if to_state not in TRANSITIONS[batch.state]:
        raise Conflict(f"批次状态不能从“{batch.state_label}”变为“{to_state_label(to_state)}”")
    before = batch.state
    batch.state = to_state
    if to_state == BatchState.PUBLISHED and batch.published_at is None:
        batch.published_at = clock.now()
    db.session.flush()
    audit.record(AuditAction.BATCH_STATE_CHANGED, obj=batch,
                 data={"from": before.value, "to": to_state.value, **(data or {})})
    signals.batch_state_changed.send(batch, old=before, new=to_state)
    if to_state == BatchState.CLOSED:
        signals.batch_closed.send(batch)
    return batch


def to_state_label(state: BatchState) -> str:
    return BATCH_STATE_LABELS[state]


def ensure_open(batch: Batch) -> Batch:
    """FILED → OPEN once the window has started (a candidate's first start, or the console at
    window start). Idempotent; does nothing before the window or in any other state."""
    if batch.state == BatchState.FILED and clock.now() >= batch.window_start:
        transition(batch, BatchState.OPEN, data={"at": "window_start"})
    return batch


def in_progress_count(batch: Batch) -> int:
    return len(db.session.scalars(select(Attempt.id).where(
        Attempt.batch_id == batch.id, Attempt.status == AttemptStatus.IN_PROGRESS)).all())


def close_batch(actor: User, batch: Batch, *, force: bool = False, reason: str = "") -> Batch:
    """OPEN (or FILED) → CLOSED. Refused while attempts are in progress unless `force` with a
    reason (the attempts themselves are then finalised by the attempt engine at their deadline).
    Raises Conflict or ValidationError."""
    if batch.state not in (BatchState.OPEN, BatchState.FILED):
        raise Conflict(f"批次当前状态为“{batch.state_label}”，不能结束考试")
    running = in_progress_count(batch)
    if running and not force:
        raise Conflict(f"还有 {running} 名考生正在作答，不能结束考试；如确需强制结束，请填写原因")
    if force and not reason.strip():
        raise ValidationError("强制结束考试须填写原因", field="reason")
    return transition(batch, BatchState.CLOSED, data={"forced": bool(force and running), "in_progress": running,
                                                      "reason": reason.strip()})


def roster_entry(batch: Batch, entry_id: int) -> RosterEntry:
    entry = db.session.get(RosterEntry, entry_id)
    if entry is None or entry.batch_id != batch.id:
        raise NotFound("未找到该考生")
    return entry
