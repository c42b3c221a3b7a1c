"""The shared delivery test world, as a plain builder (usable with any app/session, e.g. the
thread tests' own file database) and documented for every engineer's tests.

`build_world(db)` makes, flushed (not committed):
- org, exam admin (`admin`), a proctor (`proctor`) in that org;
- a standard (tests.assembly SMALL_TREE) and 10 approved items: for each of judge, single,
  multi, fill, short one item on form A and one on form B. Every key/explanation/reference
  answer/scoring point that can hold text carries `CANARY` (never shown to candidates);
- a frozen paper (`paper`) with forms `forms["A"]`, `forms["B"]`; sections in the order
  judge, single, multi, fill, short; 2 points per item;
- a FILED batch (`batch`) open from now - 10 min to now + 3 h, duration 60 min, grace 15 s,
  one room (`room`, access code "ROOM01", not required by default);
- 3 roster entries (`entries`) with candidates, tickets `tickets[i]`, ID numbers `id_numbers[i]`
  (form assigned round-robin at start: entries[0] → A, entries[1] → B, entries[2] → A).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

from examsys import clock
from examsys.assembly.models import Paper, PaperBlueprint, PaperForm, PaperFormItem, PaperStatus
from examsys.delivery.models import Batch, BatchRoom, BatchState, RosterEntry
from examsys.permissions import Role
from tests import factories
from tests.assembly.app_factories import make_item, make_standard

CANARY = "CANARY-KEY-7f3a9c51"
QTYPES = ("judge", "single", "multi", "fill", "short")
_tickets = itertools.count(1)


def item_content(qtype: str, n: int) -> dict:
    expl = f"解析 {CANARY}"
    if qtype == "judge":
        return {"stem": f"判断题{n}：电流的单位是安培。", "key": True, "explanation": expl}
    if qtype == "single":
        return {"stem": f"单选题{n}：下列哪个是电压单位（  ）。",
                "options": [{"label": x, "text": f"选项{x}{n}"} for x in "ABCD"], "key": "B",
                "explanation": expl}
    if qtype == "multi":
        return {"stem": f"多选题{n}：下列哪些是导体（  ）。",
                "options": [{"label": x, "text": f"选项{x}{n}"} for x in "ABCDE"], "key": ["A", "C"],
                "explanation": expl}
    if qtype == "fill":
        return {"stem": f"填空题{n}：我国工频为____Hz，电压为____V。",
                "key": [["50", f"五十{CANARY}"], ["220", CANARY]], "explanation": expl}
    return {"stem": f"简答题{n}：简述安全用电的要点。", "reference_answer": f"<p>参考答案 {CANARY}</p>",
            "scoring_points": [{"text": f"要点 {CANARY}", "points": 2}], "explanation": expl}


@dataclass
class DeliveryWorld:
    org: object
    admin: object
    proctor: object
    standard: object
    paper: Paper
    forms: dict
    items: dict  # (form label, qtype) → Item
    batch: Batch
    room: BatchRoom
    entries: list
    tickets: list
    id_numbers: list
    canary: str = CANARY
    form_items: dict = field(default_factory=dict)  # (form label, qtype) → PaperFormItem

    def login_payload(self, i: int = 0, **extra) -> dict:
        return {"ticket_no": self.tickets[i], "id_number": self.id_numbers[i], **extra}


def build_world(db, *, now=None) -> DeliveryWorld:
    make = factories.Factories(db)
    now = now or clock.now()
    org = make.org()
    admin = make.user(roles=(Role.EXAM_ADMIN,), org=org)
    proctor = make.user(roles=(Role.PROCTOR,), org=org)
    standard = make_standard()
    items = {}
    for label in "AB":
        for i, qtype in enumerate(QTYPES):
            items[(label, qtype)] = make_item(org, standard, admin, "A-01-001", qtype,
                                              content=item_content(qtype, 10 * (label == "B") + i))
    sections = [{"type": q, "count": 1, "points": 2.0} for q in QTYPES]
    pb = PaperBlueprint(organisation_id=org.id, standard_id=standard.id, level=4, name="考试细目表",
                        duration_minutes=60, total_points=20, pass_mark=12, forms=2, sections=sections,
                        created_by_id=admin.id)
    db.session.add(pb)
    db.session.flush()
    paper = Paper(organisation_id=org.id, blueprint_id=pb.id, standard_id=standard.id, level=4,
                  name="电工四级理论知识试卷", status=PaperStatus.DRAFT, seed=7,
                  blueprint_snapshot={"sections": sections}, created_by_id=admin.id)
    db.session.add(paper)
    db.session.flush()
    forms, form_items = {}, {}
    for label in "AB":
        form = PaperForm(paper_id=paper.id, label=label)
        db.session.add(form)
        db.session.flush()
        for pos, qtype in enumerate(QTYPES):
            item = items[(label, qtype)]
            fi = PaperFormItem(form_id=form.id, position=pos, section=pos, item_id=item.id,
                               item_version_id=item.active_version_id, points=2.0)
            db.session.add(fi)
            form_items[(label, qtype)] = fi
        forms[label] = form
    db.session.flush()
    paper.status = PaperStatus.FROZEN
    paper.frozen_at = now
    paper.frozen_by_id = admin.id
    batch = Batch(organisation_id=org.id, standard_id=standard.id, level=4, name="2026年第1批电工四级理论考试",
                  venue="第一考点", window_start=now - timedelta(minutes=10), window_end=now + timedelta(hours=3),
                  paper_id=paper.id, state=BatchState.FILED, duration_minutes=60, grace_seconds=15,
                  created_by_id=admin.id, filed_at=now - timedelta(days=1))
    db.session.add(batch)
    db.session.flush()
    room = BatchRoom(batch_id=batch.id, name="第1考场", position=0, capacity=30, access_code="ROOM01")
    db.session.add(room)
    db.session.flush()
    entries, tickets, ids = [], [], []
    for i in range(3):
        n = next(_tickets)
        id_number = factories.valid_id_number(900 + n)
        cand = make.candidate(org, name=f"考生{i + 1}", id_number=id_number)
        ticket = f"T{batch.id:04d}{n:05d}"
        entry = RosterEntry(batch_id=batch.id, candidate_id=cand.id, ticket_no=ticket, room_id=room.id,
                            seat_no=i + 1, order_seed=1000 + n, start_delay_seconds=0)
        db.session.add(entry)
        entries.append(entry)
        tickets.append(ticket)
        ids.append(id_number)
    db.session.flush()
    return DeliveryWorld(org=org, admin=admin, proctor=proctor, standard=standard, paper=paper, forms=forms,
                         items=items, batch=batch, room=room, entries=entries, tickets=tickets,
                         id_numbers=ids, form_items=form_items)
