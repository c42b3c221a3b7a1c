"""Starting an attempt: the one rule of whether an exam may start (`exam_status`, used by
`start_attempt` and by the candidate's list of exams), the candidate's form (assigned with the
roster, else round-robin in ticket order) and the first start's one INSERT, which yields to a
concurrent first start instead of failing. The first start of a filed batch opens it.

Services flush and never commit, as in `attempts`. Signals: `attempt_started` when an attempt is
created, `batch_state_changed` when the first start opens the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached

from examsys import audit, clock, rawsql, signals
from examsys.assembly.models import Paper, PaperForm, PaperStatus
from examsys.audit.actions import AuditAction
from examsys.audit.chain import GENESIS
from examsys.delivery.exam import timing
from examsys.delivery.exam.attempts import ATTEMPT_COLUMNS, BATCH_EXTENSION, finalise_if_overdue
from examsys.delivery.exam.papers import Lru
from examsys.delivery.models import Attempt, AttemptStatus, Batch, BatchState, RosterEntry
from examsys.errors import Conflict
from examsys.extensions import db

STARTABLE_STATES = (BatchState.FILED, BatchState.OPEN)


def _conflict(message: str, code: str, **details) -> Conflict:
    exc = Conflict(message, details=details)
    exc.code = code
    return exc


@dataclass(frozen=True)
class FrozenPaper:
    """What starting an attempt reads of a frozen paper, which never changes: kept per process."""

    per_candidate: bool
    forms: tuple[tuple[int, str], ...]  # (form id, label) by label; empty for one form per candidate


_FROZEN_PAPERS: dict[int, FrozenPaper] = {}
_FROZEN_PAPERS_SIZE = 1000


def frozen_paper(paper_id: int) -> FrozenPaper:
    facts = _FROZEN_PAPERS.get(paper_id)
    if facts is None:
        paper = db.session.get(Paper, paper_id)
        forms = () if paper.per_candidate else tuple(sorted(((f.id, f.label) for f in paper.forms),
                                                             key=lambda f: f[1]))
        facts = FrozenPaper(paper.per_candidate, forms)
        if len(_FROZEN_PAPERS) >= _FROZEN_PAPERS_SIZE:
            _FROZEN_PAPERS.clear()
        _FROZEN_PAPERS[paper_id] = facts
    return facts


# batch id → {ticket number: its position in ticket order}. A first start (only in STARTABLE_STATES,
# whose roster is locked) takes its round-robin form from it: counting the entries before each ticket
# cost every first start a scan of the roster (about 1 ms of the database per start at 5,000).
_POSITIONS = Lru(200)


def clear_caches() -> None:
    """Forget the kept papers and roster positions (tests whose rolled-back rows' ids come again)."""
    _FROZEN_PAPERS.clear()
    _POSITIONS.clear()


def _roster_position(entry: RosterEntry) -> int:
    """How many entries of the entry's (filed or open) batch come before it in ticket order."""
    positions = _POSITIONS.get(entry.batch_id)
    position = positions.get(entry.ticket_no) if positions is not None else None
    if position is None:  # not kept yet (or kept before this entry existed): read the roster once
        tickets = db.session.scalars(select(RosterEntry.ticket_no).where(RosterEntry.batch_id == entry.batch_id)
                                     .order_by(RosterEntry.ticket_no)).all()
        positions = {ticket: k for k, ticket in enumerate(tickets)}
        _POSITIONS.put(entry.batch_id, positions)
        position = positions.get(entry.ticket_no, 0)
    return position


def _pick_form(entry: RosterEntry, paper_id: int) -> tuple[int, str]:
    """(form id, label) of the entry's form: the one assigned with the roster, else round-robin."""
    paper = frozen_paper(paper_id)
    if entry.form_label:
        # One row, not all of them: a paper may have a form per candidate.
        form = db.session.execute(select(PaperForm.id, PaperForm.label).where(
            PaperForm.paper_id == paper_id, PaperForm.label == entry.form_label)).first()
        if form is not None:
            return form[0], form[1]
    if paper.per_candidate:
        # Each candidate's own form was assigned with the roster (in roster order) and checked at
        # filing; a candidate without one must not share another's.
        raise _conflict(f"本场考试为一人一卷，考生 {entry.ticket_no} 没有分配到试卷，请联系考务人员", "no_paper")
    if not paper.forms:
        raise _conflict("本场考试的试卷没有可用的试卷套", "no_paper")
    if entry.form_label:
        raise _conflict(f"准考证指定的试卷套 {entry.form_label} 不存在", "no_paper")
    # Round-robin by ticket order: neighbours in the roster (and usually in the room) differ.
    return paper.forms[_roster_position(entry) % len(paper.forms)]


@dataclass(frozen=True)
class ExamStatus:
    """Where a candidate's exam stands: `state` is the attempt's status once started, else
    `available`, `not_started` (before `opens_at`) or `closed`; `refusal` the Conflict code
    `start_attempt` would raise (None when it may start or has started)."""

    state: str
    opens_at: datetime
    attempt: Attempt | None
    refusal: str | None = None

    @property
    def can_start(self) -> bool:
        return self.state in ("available", AttemptStatus.IN_PROGRESS.value)


def exam_status(entry: RosterEntry, attempt: Attempt | None, now: datetime) -> ExamStatus:
    """The one rule of whether an exam may start: the batch filed or open, inside its window,
    and past the window's start plus the entry's start delay (错峰开考)."""
    batch = entry.batch
    opens_at = batch.window_start + timedelta(seconds=entry.start_delay_seconds or 0)
    if attempt is not None:
        return ExamStatus(attempt.status.value, opens_at, attempt)
    if batch.state not in STARTABLE_STATES:
        return ExamStatus("closed", opens_at, None, "not_available")
    if now >= batch.window_end:
        return ExamStatus("closed", opens_at, None, "window_closed")
    if now < opens_at:
        return ExamStatus("not_started", opens_at, None, "not_started")
    return ExamStatus("available", opens_at, None)


_REFUSALS = {"not_available": "本场考试当前不可作答", "window_closed": "考试时间已结束",
             "not_started": "考试尚未开始，请稍候"}


def attempt_of(entry: RosterEntry) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(Attempt.roster_entry_id == entry.id))


_UNKNOWN = object()
_PAPER_AND_EXTENSION = select(Paper.status, BATCH_EXTENSION.scalar_subquery()).where(Paper.id == bindparam("paper_id"))
_INSERT_ATTEMPT: dict[str, Any] = {}


def _insert_attempt(dialect: str):
    """The first start's INSERT, built once per dialect (building it cost more than running it).
    Core, returning every column: the ORM's INSERT ... RETURNING(Attempt) went through its bulk
    insert machinery, a quarter of a start's CPU."""
    stmt = _INSERT_ATTEMPT.get(dialect)
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = _INSERT_ATTEMPT[dialect] = insert(Attempt.__table__).values(
            batch_id=bindparam("batch_id"), roster_entry_id=bindparam("roster_entry_id"),
            form_id=bindparam("form_id"), order_seed=bindparam("order_seed"), status=AttemptStatus.IN_PROGRESS,
            started_at=bindparam("started_at"), deadline_at=bindparam("deadline_at"),
            last_seen_at=bindparam("started_at"), answered_count=0, version=1,
        ).on_conflict_do_nothing(index_elements=[Attempt.roster_entry_id]).returning(*ATTEMPT_COLUMNS.values())
    return stmt


def _inserted(row) -> Attempt:
    """The attempt the INSERT returned, in the session as if loaded from it (no history)."""
    attempt = Attempt(**dict(zip(ATTEMPT_COLUMNS, row, strict=True)))
    make_transient_to_detached(attempt)
    db.session.add(attempt)
    return attempt


def start_attempt(entry: RosterEntry, *, now: datetime | None = None, existing: Any = _UNKNOWN) -> Attempt:
    """The candidate's attempt, created at the first call (the same one afterwards). `existing`:
    the entry's attempt (or None) as the caller read it in this transaction, to skip the read.

    Raises Conflict with code `not_started` (before window start + the entry's start delay;
    details.starts_at), `window_closed`, `not_available` (batch not filed/open) or `no_paper`."""
    now = now or clock.now()
    if existing is _UNKNOWN:
        existing = attempt_of(entry)
    if existing is not None:
        finalise_if_overdue(existing, now)
        return existing
    batch = entry.batch
    status = exam_status(entry, None, now)
    if status.refusal == "not_available":
        raise _conflict(_REFUSALS[status.refusal], status.refusal, state=batch.state.value)
    if status.refusal == "not_started":
        raise _conflict(_REFUSALS[status.refusal], status.refusal, starts_at=status.opens_at.isoformat())
    if status.refusal is not None:
        raise _conflict(_REFUSALS[status.refusal], status.refusal)
    # The paper's state and the whole batch's extensions, in one read.
    row = db.session.execute(_PAPER_AND_EXTENSION, {"paper_id": batch.paper_id, "batch_id": batch.id}).first() \
        if batch.paper_id else None
    if row is None or row[0] != PaperStatus.FROZEN:
        raise _conflict("本场考试的试卷尚未定稿", "no_paper")
    form_id, form_label = _pick_form(entry, batch.paper_id)
    deadline = timing.effective_deadline(now, batch.duration_minutes, batch.window_end, 0, int(row[1]))
    # One INSERT that yields to a concurrent first start (unique roster_entry_id) instead of
    # failing: no SAVEPOINT around it.
    conn = db.session.connection()
    row = rawsql.fetch(conn, _insert_attempt(conn.dialect.name), {
        "batch_id": batch.id, "roster_entry_id": entry.id, "form_id": form_id, "order_seed": entry.order_seed,
        "started_at": now, "deadline_at": deadline})
    if row is None:  # a concurrent first start won: the same attempt again
        existing = attempt_of(entry)
        if existing is None:
            raise Conflict("开始作答失败，请重试")
        return existing
    attempt = _inserted(row)
    # The first start opens a filed batch (once: the UPDATE is guarded); an open one stays open.
    opened = None if batch.state != BatchState.FILED else db.session.execute(
        update(Batch).where(Batch.id == batch.id, Batch.state == BatchState.FILED)
        .values(state=BatchState.OPEN, version=Batch.version + 1)
        .execution_options(synchronize_session=False))
    if opened is not None and opened.rowcount == 1:
        db.session.refresh(batch)
        audit.record(AuditAction.BATCH_OPENED, obj=batch, data={"trigger": "first_start", "attempt_id": attempt.id})
        signals.batch_state_changed.send(batch, old=BatchState.FILED, new=BatchState.OPEN)
    audit.record(AuditAction.ATTEMPT_STARTED, obj=attempt, organisation_id=batch.organisation_id, data={
        "ticket_no": entry.ticket_no, "form": form_label, "order_seed": attempt.order_seed,
        "started_at": now.isoformat(), "deadline_at": attempt.deadline_at.isoformat()}, head=(0, GENESIS))
    signals.attempt_started.send(attempt)
    return attempt
