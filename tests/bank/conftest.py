"""Bank fixtures: a small standard (电工, two ranges, four points), an organisation with a
writer and two reviewers, and helpers to create items of every type."""

from __future__ import annotations

import itertools

import pytest

from examsys.audit.models import AuditEvent
from examsys.bank import services, workflow
from examsys.bank.models import QType
from examsys.permissions import Role
from examsys.standards.models import AssessmentPoint, Importance, KnowledgeRange, Standard

CONTENT = {
    "judge": {"stem": "<p>安全电压的额定值一般不超过36V。</p>", "key": True},
    "single": {"stem": "<p>我国工频交流电的频率为（  ）Hz。</p>",
               "options": [{"label": "A", "text": "50"}, {"label": "B", "text": "60"},
                           {"label": "C", "text": "100"}, {"label": "D", "text": "220"}],
               "key": "A", "explanation": "我国电网工频为 50Hz。"},
    "multi": {"stem": "<p>下列属于常用绝缘材料的有（  ）。</p>",
              "options": [{"label": "A", "text": "云母"}, {"label": "B", "text": "橡胶"},
                          {"label": "C", "text": "铜"}, {"label": "D", "text": "陶瓷"}],
              "key": ["A", "B", "D"]},
    "fill": {"stem": "<p>三相四线制中，线电压是相电压的____倍，相位超前____度。</p>",
             "key": [["√3", "1.732"], ["30"]]},
    "short": {"stem": "<p>简述触电急救的基本原则。</p>",
              "reference_answer": "<p>迅速、就地、准确、坚持。</p>",
              "scoring_points": [{"text": "迅速脱离电源", "points": 2}, {"text": "就地准确施救", "points": 3}]},
}
OPEN_POINTS = 5
_codes = itertools.count(1)


@pytest.fixture
def bank(make, db, frozen_clock):
    """The bank's world: org, writer, reviewer, reviewer2, standard, ranges, points, item()."""
    from examsys.bank import similarity

    similarity._sample_cache.clear()
    return BankWorld(make, db)


class BankWorld:
    def __init__(self, make, db):
        self.db = db
        self.make = make
        self.org = make.org()
        self.writer = make.user(roles=Role.WRITER, org=self.org)
        self.reviewer = make.user(roles=Role.REVIEWER, org=self.org)
        self.reviewer2 = make.user(roles=Role.REVIEWER, org=self.org)
        # Unique codes: on SQLite a test's commit is not always undone by the outer rollback.
        self.standard = Standard(code=f"6-31-01-{next(_codes):04d}", name="电工", edition="2018",
                                 levels=[5, 4, 3])
        db.session.add(self.standard)
        db.session.flush()
        top = KnowledgeRange(standard_id=self.standard.id, code="A", name="基础知识", weights={"4": 50})
        db.session.add(top)
        db.session.flush()
        sub = KnowledgeRange(standard_id=self.standard.id, parent_id=top.id, code="A-01",
                             name="电工基础", weights={"4": 20})
        other = KnowledgeRange(standard_id=self.standard.id, code="B", name="安全知识", weights={"4": 50})
        db.session.add_all([sub, other])
        db.session.flush()
        self.ranges = {"A": top, "A-01": sub, "B": other}
        self.points = {}
        for code, rng, name in [("A-01-001", sub, "直流电路"), ("A-01-002", sub, "交流电路"),
                                ("B-01-001", other, "触电急救"), ("B-01-002", other, "电气防火")]:
            p = AssessmentPoint(standard_id=self.standard.id, range_id=rng.id, code=code, name=name,
                                importance=Importance.X, levels=[5, 4, 3])
            db.session.add(p)
            self.points[code] = p
        db.session.flush()

    def content(self, qtype: str, **changes) -> dict:
        return {**CONTENT.get(qtype, CONTENT["single"]), **changes}

    def item(self, qtype: str = "single", *, author=None, point="A-01-001", levels=(4,), difficulty=3,
             points=None, content=None, status="draft", org=None, note=""):
        points = points if points is not None else (OPEN_POINTS if qtype == "short" else 1)
        return services.create_item(
            author or self.writer, org or self.org, standard=self.standard,
            point=self.points[point] if point else None, qtype=qtype, levels=list(levels),
            difficulty=difficulty, points=points, content=content or self.content(qtype), note=note,
            status=status)

    def approved(self, qtype: str = "single", **kwargs):
        item = self.item(qtype, **kwargs)
        workflow.submit(self.writer, item.latest_version)
        workflow.approve(self.reviewer, item.latest_version)
        return item

    def events(self, action: str, object_id=None) -> list[AuditEvent]:
        from sqlalchemy import select

        stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        if object_id is not None:
            stmt = stmt.where(AuditEvent.object_id == str(object_id))
        return list(self.db.session.scalars(stmt))


__all__ = ["CONTENT", "QType"]
