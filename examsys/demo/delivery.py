"""The demo batch: a frozen paper assembled from the demo blueprint (fixed seed), and a filed
batch "电工四级理论知识考试（演示批次）" open from five minutes ago for four hours, one room of 30
seats with the two demo proctors, the demo supervisor, and 30 made-up candidates (valid by
checksum, fictional) with generated admission-ticket numbers.

Idempotent: a second call finds the batch and returns the same candidates. Filing refuses a
window that has already started, so the batch is filed with a window starting in a minute and
then moved back five minutes — a demo-only step recorded as its own audit event."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts import idnumber
from examsys.accounts.candidates import id_index
from examsys.assembly import services as assembly
from examsys.assembly.models import Paper, PaperStatus
from examsys.audit.actions import AuditAction
from examsys.delivery.batches import services as svc
from examsys.delivery.models import Batch
from examsys.extensions import db
from examsys.supervision import services as supervision

NAME = "电工四级理论知识考试（演示批次）"
SEED = 20261124
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏"
GIVEN = ["建华", "秀英", "志强", "丽娟", "海涛", "晓燕", "国平", "春梅", "永刚", "红霞"]


def demo_candidates() -> list[tuple[str, str]]:
    """(name, ID number) of the 30 demo candidates: fictional, checksum-valid, stable."""
    out = []
    for i in range(30):
        first17 = f"3201021{985 + i % 12:03d}{1 + i % 12:02d}{1 + (i * 7) % 28:02d}{200 + i:03d}"
        out.append((SURNAMES[i] + GIVEN[i % len(GIVEN)], idnumber.make_valid(first17[:17])))
    return out


def demo_paper(blueprint, user) -> Paper:
    """The blueprint's frozen paper (the first one), assembled with the demo seed and frozen by
    `user` when there is none yet."""
    paper = db.session.scalar(select(Paper).where(Paper.blueprint_id == blueprint.id,
                                                  Paper.status == PaperStatus.FROZEN).order_by(Paper.id))
    if paper is None:
        paper = assembly.assemble(user, blueprint, seed=SEED, name="电工四级理论知识考试试卷（演示）")
        assembly.freeze(user, paper)
    return paper


def _result(batch: Batch) -> dict:
    by_index = {id_index(number): (name, number) for name, number in demo_candidates()}
    cands = []
    for entry in sorted(batch.roster, key=lambda e: e.ticket_no):
        name, number = by_index.get(entry.candidate.id_number_index, (entry.candidate.name, None))
        if number is None:
            continue
        cands.append({"ticket_no": entry.ticket_no, "id_number": number, "name": name,
                      # A batch that asks for no room code has none to give out.
                      "access_code": entry.room.access_code if entry.room and batch.require_access_code
                      else None})
    return {"candidates": cands, "batches": [{"id": batch.id, "name": batch.name, "state": batch.state.value}]}


def load_demo_batch(org, standard, users: dict, blueprint) -> dict:
    """Create (once) the demo paper and batch; return candidates and batches for
    ``examsys demo --json``. `users` maps demo usernames (examadmin, proctor, proctor2,
    supervisor, province) to User rows. Raises what assembly and filing raise (nothing for demo data)."""
    existing = db.session.scalar(select(Batch).where(Batch.organisation_id == org.id, Batch.name == NAME))
    if existing is not None:
        return _result(existing)
    admin = users["examadmin"]
    paper = demo_paper(blueprint, admin)
    now = clock.now()
    data = svc.BatchInput(
        standard_id=standard.id, level=paper.level, name=NAME, venue="示范省电工职业技能评价中心 机房一",
        window_start=now + timedelta(minutes=1), window_end=now + timedelta(hours=4), paper_id=paper.id,
        rooms=[svc.RoomInput(name="第1考场", capacity=30,
                             proctor_ids=[users["proctor"].id, users["proctor2"].id])],
        marker_ids=[users["proctor"].id, users["proctor2"].id], settings={"start_jitter_seconds": 10})
    batch = svc.create_batch(admin, org, data)
    # The authority assigns its supervisor before filing (filing checks their certificate).
    supervision.assign(users["province"], batch, users["supervisor"])
    rows = [(name, number) for name, number in demo_candidates()]
    result = svc.import_roster(admin, batch, "演示名单.xlsx", roster_xlsx(rows))
    if not result.ok:
        raise ValueError("; ".join(str(e) for e in result.errors))
    svc.file_batch(admin, batch)
    batch.window_start = now - timedelta(minutes=5)
    db.session.flush()
    audit.record(AuditAction.BATCH_DEMO_WINDOW_SET, obj=batch,
                 data={"window_start": batch.window_start.isoformat(), "note": "demo: opened five minutes ago"})
    return _result(batch)


def roster_xlsx(rows: list[tuple[str, str]]) -> bytes:
    """A roster workbook (姓名, 身份证号) of (name, ID number) rows, as an exam admin uploads it."""
    from openpyxl import Workbook  # heavy: loaded only when the demo builds its roster file

    book = Workbook()
    ws = book.active
    ws.append(["姓名", "身份证号"])
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
