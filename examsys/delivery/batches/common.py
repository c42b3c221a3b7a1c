"""Batch basics shared by the batch modules: the state table, input shapes, labels, the
visibility queries (object policies from examsys.permissions) and read helpers (rooms, staff,
forms, certificates)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, or_, select

from examsys import clock
from examsys.accounts.models import CERT_KIND_LABELS, CertificateKind, User
from examsys.assembly.models import PaperForm
from examsys.delivery.models import (
    Batch,
    BatchRoom,
    BatchStaff,
    BatchState,
    StaffRole,
)
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.permissions import Role, can_manage_batch, can_view_batch, sees_all_organisations

S = BatchState
# The legal state changes. Later states (marked, reviewed, published, archived) are driven by
# grading and result review through ``transition``; a returned review goes back.
TRANSITIONS: dict[BatchState, frozenset[BatchState]] = {
    S.PLANNED: frozenset({S.FILED}),
    S.FILED: frozenset({S.OPEN, S.CLOSED}),
    S.OPEN: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.MARKED}),
    S.MARKED: frozenset({S.REVIEWED}),
    S.REVIEWED: frozenset({S.PUBLISHED, S.MARKED}),
    S.PUBLISHED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}

# Settings a planned batch takes from the form, with their bounds (inclusive).
SETTINGS_BOUNDS: dict[str, tuple[int, int, str]] = {
    "duration_minutes": (1, 600, "考试时长（分钟）"),
    "grace_seconds": (0, 300, "交卷宽限（秒）"),
    "start_jitter_seconds": (0, 600, "错峰开考最长延迟（秒）"),
    "candidates_per_proctor": (1, 100, "每名考评员最多监考人数"),
    "min_proctors_per_room": (1, 10, "每个考场最少考评员人数"),
    "notice_days": (0, 60, "成绩公示天数"),
    "review_apply_days": (0, 60, "复核申请期限（工作日）"),
    "review_answer_days": (0, 60, "复核答复期限（工作日）"),
}
FLAG_SETTINGS = ("require_access_code", "shuffle_items", "shuffle_options")


@dataclass
class RoomInput:
    name: str
    capacity: int = 30
    proctor_ids: list[int] = field(default_factory=list)


@dataclass
class BatchInput:
    """What the batch form edits. ``duration_minutes`` None takes the paper's blueprint."""

    standard_id: int
    level: int
    name: str
    venue: str
    window_start: datetime
    window_end: datetime
    paper_id: int | None = None
    duration_minutes: int | None = None
    rooms: list[RoomInput] = field(default_factory=list)
    marker_ids: list[int] = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def new_access_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def local_date(value: datetime) -> date:
    return clock.to_display(value).date()


def window_label(batch: Batch) -> str:
    start, end = clock.to_display(batch.window_start), clock.to_display(batch.window_end)
    tail = end.strftime("%H:%M") if start.date() == end.date() else end.strftime("%Y-%m-%d %H:%M")
    return f"{start:%Y-%m-%d %H:%M}～{tail}（北京时间）"


# --- visibility (object policy) ---------------------------------------------------------------


def visible_batches(user: User) -> Select:
    stmt = select(Batch)
    if sees_all_organisations(user):
        return stmt
    staffed = select(BatchStaff.batch_id).where(BatchStaff.user_id == user.id)
    seen = [Batch.organisation_id == user.organisation_id, Batch.id.in_(staffed)]
    if user.has_role(Role.SUPERVISOR):
        # The authority's supervisor sees the batches assigned to them (examsys.supervision).
        seen.append(Batch.supervision_assignments.any(supervisor_id=user.id, ended_at=None))
    return stmt.where(or_(*seen))


def get_visible(batch_id: int, user: User) -> Batch:
    """The batch, or NotFound when it does not exist or the user may not see it."""
    batch = db.session.get(Batch, batch_id)
    if batch is None or not can_view_batch(user, batch):
        raise NotFound("未找到该评价批次")
    return batch


def get_managed(batch_id: int, user: User) -> Batch:
    """The batch for a change: NotFound outside the user's organisation."""
    batch = db.session.get(Batch, batch_id)
    if batch is None or not can_manage_batch(user, batch):
        raise NotFound("未找到该评价批次")
    return batch


# --- reading helpers ----------------------------------------------------------------------------


def proctors_of(batch: Batch, room: BatchRoom | None = None) -> list[BatchStaff]:
    return [s for s in batch.staff if s.role == StaffRole.PROCTOR and (room is None or s.room_id == room.id)]


def markers_of(batch: Batch) -> list[BatchStaff]:
    return [s for s in batch.staff if s.role == StaffRole.MARKER]


def room_counts(batch: Batch) -> dict[int, int]:
    counts: dict[int, int] = {r.id: 0 for r in batch.rooms}
    for entry in batch.roster:
        if entry.room_id in counts:
            counts[entry.room_id] += 1
    return counts


def form_labels(batch: Batch) -> list[str]:
    """The forms of the batch's paper in order (A, B, … or, one per candidate, 1, 2, … N)."""
    labels = db.session.scalars(select(PaperForm.label).where(PaperForm.paper_id == batch.paper_id)).all() \
        if batch.paper_id else []
    return sorted(labels, key=lambda label: (0, int(label), "") if label.isdigit() else (1, 0, label)) or ["A", "B"]


def certificate_status(user: User, kind: CertificateKind, batch: Batch) -> tuple[bool, str]:
    """(valid on the window's dates, a label for the batch page)."""
    cert = user.valid_certificate(kind, local_date(batch.window_end))
    if cert is not None:
        return True, f"{CERT_KIND_LABELS[kind]} {cert.number}（有效期至 {cert.valid_until:%Y-%m-%d}）"
    held = [c for c in user.certificates if c.kind == kind]
    if held:
        last = max(held, key=lambda c: c.valid_until)
        return False, f"{CERT_KIND_LABELS[kind]} {last.number} 已于 {last.valid_until:%Y-%m-%d} 过期"
    return False, f"无{CERT_KIND_LABELS[kind]}"
