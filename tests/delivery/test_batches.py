"""Batches and filing (评价前备案): creation defaults, every filing refusal with its reason, the
lock after filing, the state table, closing. Also holds the small world the other batch,
roster, proctor and PDF tests import (``batch_world``, ``roster_xlsx``, ``add_attempt``)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from examsys import clock
from examsys.accounts.models import Certificate, CertificateKind, OrgKind
from examsys.assembly.models import Paper, PaperBlueprint, PaperForm, PaperStatus
from examsys.audit.models import AuditEvent
from examsys.delivery.batches import rosters
from examsys.delivery.batches import services as svc
from examsys.delivery.models import Attempt, AttemptStatus, BatchState
from examsys.errors import Conflict, ValidationError
from examsys.permissions import Role
from examsys.supervision import services as supervision
from tests.assembly.app_factories import make_standard
from tests.factories import valid_id_number

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
START = NOW + timedelta(days=1)


class World:
    pass


def make_paper(org, standard, admin, *, status=PaperStatus.FROZEN, labels=("A", "B"), level=4):
    from examsys.extensions import db

    pb = PaperBlueprint(organisation_id=org.id, standard_id=standard.id, level=level, name="测试细目表",
                        duration_minutes=100, created_by_id=admin.id)
    db.session.add(pb)
    db.session.flush()
    paper = Paper(organisation_id=org.id, blueprint_id=pb.id, standard_id=standard.id, level=level,
                  name="电工四级测试试卷", status=status, seed=1, blueprint_snapshot={"duration_minutes": 100},
                  created_by_id=admin.id, frozen_at=clock.now() if status == PaperStatus.FROZEN else None)
    paper.forms = [PaperForm(label=label) for label in labels]
    db.session.add(paper)
    db.session.flush()
    return paper


def roster_xlsx(rows, header=("姓名", "身份证号")) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def batch_world(make, db, *, candidates: int = 6, capacity: int = 30, rooms: int = 1) -> World:
    """An organisation with an exam admin, three certified proctors, one uncertified, a
    supervisor of the province, a frozen A/B paper and a planned batch tomorrow with
    `rooms` rooms of two proctors each (when available) and `candidates` on the roster."""
    clock.freeze(NOW)
    w = World()
    w.org = make.org()
    w.admin = make.user(roles=Role.EXAM_ADMIN, org=w.org)
    w.proctors = [make.user(roles=Role.PROCTOR, org=w.org, certificates=(CertificateKind.EXAMINER,))
                  for _ in range(4)]
    w.uncertified = make.user(roles=Role.PROCTOR, org=w.org)
    w.province = make.org(OrgKind.AUTHORITY)
    w.supervisor = make.user(roles=Role.SUPERVISOR, org=w.province, certificates=(CertificateKind.SUPERVISOR,))
    w.province_admin = make.user(roles=Role.PROVINCIAL_ADMIN, org=w.province)
    w.standard = make_standard()
    w.paper = make_paper(w.org, w.standard, w.admin)
    room_inputs = [svc.RoomInput(name=f"第{i + 1}考场", capacity=capacity,
                                 proctor_ids=[p.id for p in w.proctors[2 * i:2 * i + 2]]) for i in range(rooms)]
    w.data = svc.BatchInput(standard_id=w.standard.id, level=4, name="电工四级理论考试（测试）", venue="测试考点",
                            window_start=START, window_end=START + timedelta(hours=3), paper_id=w.paper.id,
                            rooms=room_inputs, marker_ids=[w.proctors[0].id])
    w.batch = svc.create_batch(w.admin, w.org, w.data)
    supervision.assign(w.province_admin, w.batch, w.supervisor)  # the authority's supervisor
    w.ids = [valid_id_number(7000 + i) for i in range(candidates)]
    if candidates:
        rows = [(f"考生{i + 1}", n) for i, n in enumerate(w.ids)]
        result = rosters.import_roster(w.admin, w.batch, "名单.xlsx", roster_xlsx(rows))
        assert result.ok, result.errors
    db.session.flush()
    return w


def add_attempt(db, w, entry, status=AttemptStatus.IN_PROGRESS, *, minutes_left=60):
    form = next(f for f in w.paper.forms if f.label == (entry.form_label or "A"))
    now = clock.now()
    attempt = Attempt(batch_id=w.batch.id, roster_entry_id=entry.id, form_id=form.id, order_seed=entry.order_seed,
                      status=status, started_at=now - timedelta(minutes=10),
                      deadline_at=now + timedelta(minutes=minutes_left), last_seen_at=now, answered_count=3,
                      finished_at=None if status == AttemptStatus.IN_PROGRESS else now)
    db.session.add(attempt)
    db.session.flush()
    return attempt


@pytest.fixture
def world(make, db):
    w = batch_world(make, db)
    yield w
    clock.freeze(None)


def _refusal(w) -> str:
    with pytest.raises(ValidationError) as exc:
        svc.file_batch(w.admin, w.batch)
    return exc.value.message


# --- creation --------------------------------------------------------------------------------


def test_create_batch_takes_duration_from_the_paper_and_makes_access_codes(world, db):
    b = world.batch
    assert b.state == BatchState.PLANNED and b.duration_minutes == 100
    assert len(b.rooms) == 1 and len(b.rooms[0].access_code) == 6 and b.rooms[0].access_code.isdigit()
    assert {s.user_id for s in svc.proctors_of(b)} == {world.proctors[0].id, world.proctors[1].id}
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "batch.created",
                                                      AuditEvent.object_id == str(b.id))) is not None


def test_create_batch_refuses_a_draft_paper_and_a_foreign_proctor(make, db, world):
    draft = make_paper(world.org, world.standard, world.admin, status=PaperStatus.DRAFT)
    data = world.data
    data.paper_id = draft.id
    with pytest.raises(ValidationError, match="尚未定稿"):
        svc.create_batch(world.admin, world.org, data)
    other = make.user(roles=Role.PROCTOR, certificates=(CertificateKind.EXAMINER,))
    data.paper_id = world.paper.id
    data.rooms = [svc.RoomInput(name="A", capacity=10, proctor_ids=[other.id])]
    with pytest.raises(ValidationError, match="不是本机构的考评员"):
        svc.create_batch(world.admin, world.org, data)


# --- filing refusals ----------------------------------------------------------------------------


def test_filing_succeeds_and_locks(world, db):
    svc.file_batch(world.admin, world.batch)
    assert world.batch.state == BatchState.FILED and world.batch.filed_at == NOW
    with pytest.raises(Conflict, match="备案变更"):
        svc.update_batch(world.admin, world.batch, world.data)
    with pytest.raises(Conflict, match="锁定"):
        rosters.import_roster(world.admin, world.batch, "x.xlsx", roster_xlsx([("新考生", valid_id_number(99))]))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "batch.filed"))
    assert event.object_id == str(world.batch.id) and event.data["candidates"] == 6


def test_filing_refuses_an_uncertified_proctor_by_name(world, db):
    world.data.rooms[0].proctor_ids = [world.proctors[0].id, world.uncertified.id]
    svc.update_batch(world.admin, world.batch, world.data)
    message = _refusal(world)
    assert world.uncertified.display_name in message and "第1考场" in message and "无考评员证" in message
    assert world.batch.state == BatchState.PLANNED


def test_filing_refuses_a_certificate_expired_before_the_exam(world, db):
    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == world.proctors[1].id))
    cert.valid_until = date(2026, 11, 24)  # valid today, expired on the exam day
    db.session.flush()
    message = _refusal(world)
    assert world.proctors[1].display_name in message and "2026-11-24 过期" in message


def test_filing_refuses_a_supervisor_without_certificate(make, world, db):
    bare = make.user(roles=Role.SUPERVISOR, org=world.province)
    supervision.assign(world.province_admin, world.batch, bare)
    assert f"督导员 {bare.display_name} 没有考试日期内有效的督导员证" in _refusal(world)


def test_filing_refuses_too_few_proctors_and_the_ratio(world, db):
    world.data.rooms[0].proctor_ids = [world.proctors[0].id]
    svc.update_batch(world.admin, world.batch, world.data)
    assert "考场“第1考场”有考生 6 人、考评员 1 人，至少需要 2 人" in _refusal(world)
    world.data.rooms[0].proctor_ids = [world.proctors[0].id, world.proctors[1].id]
    world.data.settings = {"candidates_per_proctor": 2}
    svc.update_batch(world.admin, world.batch, world.data)
    assert "至少需要 3 人" in _refusal(world)


def test_filing_refuses_a_room_over_capacity(world, db):
    world.data.rooms[0].capacity = 4
    svc.update_batch(world.admin, world.batch, world.data)
    assert "考场“第1考场”安排考生 6 人，超过座位数 4" in _refusal(world)


def test_filing_refuses_a_paper_no_longer_frozen(world, db):
    world.paper.status = PaperStatus.DRAFT
    db.session.flush()
    assert "尚未定稿" in _refusal(world)


def test_filing_refuses_an_empty_roster_and_a_past_window(make, db):
    w = batch_world(make, db, candidates=0)
    try:
        assert "考生名单为空" in _refusal(w)
        clock.freeze(START + timedelta(minutes=1))
        assert "已过" in _refusal(w)
    finally:
        clock.freeze(None)


# --- state table and closing ----------------------------------------------------------------------


def test_transition_table(world, db):
    with pytest.raises(Conflict, match="不能从“计划中”变为“已发布”"):
        svc.transition(world.batch, BatchState.PUBLISHED)
    svc.file_batch(world.admin, world.batch)
    svc.ensure_open(world.batch)
    assert world.batch.state == BatchState.FILED  # the window has not started
    clock.freeze(START)
    svc.ensure_open(world.batch)
    assert world.batch.state == BatchState.OPEN
    for state in (BatchState.CLOSED, BatchState.MARKED, BatchState.REVIEWED, BatchState.PUBLISHED):
        svc.transition(world.batch, state)
    assert world.batch.published_at is not None
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "batch.state_changed").order_by(AuditEvent.id)
    ).all()
    assert [(e.data["from"], e.data["to"]) for e in events][-1] == ("reviewed", "published")


def test_close_refuses_while_attempts_run_unless_forced_with_reason(world, db):
    svc.file_batch(world.admin, world.batch)
    clock.freeze(START + timedelta(minutes=5))
    svc.ensure_open(world.batch)
    add_attempt(db, world, world.batch.roster[0])
    with pytest.raises(Conflict, match="1 名考生正在作答"):
        svc.close_batch(world.admin, world.batch)
    with pytest.raises(ValidationError, match="原因"):
        svc.close_batch(world.admin, world.batch, force=True, reason=" ")
    svc.close_batch(world.admin, world.batch, force=True, reason="停电，经督导同意提前结束")
    assert world.batch.state == BatchState.CLOSED
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "batch.state_changed")
                              .order_by(AuditEvent.id.desc())).first()
    assert event.data["forced"] is True and event.data["reason"].startswith("停电")


# --- roster placement -------------------------------------------------------------------------------


def test_tickets_are_unique_seats_fill_rooms_in_order_and_forms_alternate(make, db):
    w = batch_world(make, db, candidates=7, capacity=4, rooms=2)
    try:
        entries = sorted(w.batch.roster, key=lambda e: e.id)
        tickets = [e.ticket_no for e in entries]
        assert len(set(tickets)) == 7
        year = clock.to_display(w.batch.window_start).year
        assert tickets[0] == f"{year}{w.org.id:04d}{w.batch.id:05d}0001"
        rooms = w.batch.rooms
        assert [(e.room_id, e.seat_no) for e in entries] == [(rooms[0].id, s) for s in (1, 2, 3, 4)] + \
            [(rooms[1].id, s) for s in (1, 2, 3)]
        assert [e.form_label for e in entries] == ["A", "B", "A", "B", "A", "B", "A"]
        assert all(0 <= e.order_seed < 2**31 and e.start_delay_seconds == 0 for e in entries)
        assert svc.filing_problems(w.batch) == []
    finally:
        clock.freeze(None)
