"""A marked batch whose responses come from an item-response model, built straight with the ORM
(as tests/delivery/test_grading.py's GradingWorld): one form of single-choice items keyed "A",
where item 1's key is wrong (the strong candidates answer "B") and nobody picks item 2's "D"."""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
from sqlalchemy import select

from examsys import clock
from examsys.assembly.models import Paper, PaperBlueprint, PaperForm, PaperFormItem, PaperStatus
from examsys.delivery.models import Attempt, AttemptStatus, Batch, BatchState, Response, Result, RosterEntry
from examsys.delivery.scoring import services as scoring
from examsys.permissions import Role
from tests.assembly.app_factories import make_item, make_standard

_tickets = itertools.count(500_000)
K = 8
WRONG_KEY, DEAD = 0, 1  # positions 1 and 2


def content(i: int) -> dict:
    return {"stem": f"第{i + 1}题题干（  ）。",
            "options": [{"label": x, "text": f"选项{x}{i}"} for x in "ABCD"], "key": "A"}


class StatsWorld:
    def __init__(self, make, db, *, n: int = 80, seed: int = 4, pass_mark: float = 5.0):
        self.db, self.make = db, make
        self.org = make.org()
        self.admin = make.user(roles=Role.EXAM_ADMIN, org=self.org)
        self.admin2 = make.user(roles=Role.EXAM_ADMIN, org=self.org)
        self.reviewer = make.user(roles=Role.REVIEWER, org=self.org)
        self.standard = make_standard()
        sections = [{"type": "single", "count": K, "points": 1.0}]
        bp = PaperBlueprint(organisation_id=self.org.id, standard_id=self.standard.id, level=4, name="细目表",
                            total_points=K, pass_mark=pass_mark, sections=sections, created_by_id=self.admin.id)
        db.session.add(bp)
        db.session.flush()
        snapshot = {"name": "细目表", "level": 4, "duration_minutes": 60, "total_points": K, "pass_mark": pass_mark,
                    "forms": 1, "max_shared_items": 0, "partial_credit": False, "sections": sections,
                    "content_rules": [], "difficulty_rules": [], "importance_rules": [],
                    "exclude_recent_papers": 0, "max_exposure": None, "standard_id": self.standard.id}
        self.paper = Paper(organisation_id=self.org.id, blueprint_id=bp.id, standard_id=self.standard.id, level=4,
                           name="统计试卷", status=PaperStatus.FROZEN, seed=1, blueprint_snapshot=snapshot,
                           created_by_id=self.admin.id)
        self.form = PaperForm(label="A")
        self.paper.forms.append(self.form)
        self.items = []
        for i in range(K):
            item = make_item(self.org, self.standard, self.admin, "A-01-001", "single", content=content(i))
            self.items.append(item)
            self.form.items.append(PaperFormItem(position=i + 1, section=0, item_id=item.id,
                                                 item_version_id=item.active_version_id, points=1.0))
        db.session.add(self.paper)
        db.session.flush()
        now = clock.now()
        self.batch = Batch(organisation_id=self.org.id, standard_id=self.standard.id, level=4, name="统计批次",
                           venue="一号楼", window_start=now - timedelta(hours=3), window_end=now - timedelta(hours=1),
                           paper_id=self.paper.id, state=BatchState.CLOSED, created_by_id=self.admin.id)
        db.session.add(self.batch)
        db.session.flush()
        rng = np.random.default_rng(seed)
        theta = rng.standard_normal(n)
        b = np.linspace(-1.2, 1.2, K)
        self.attempts = []
        for i in range(n):
            answers = {}
            for j, fi in enumerate(self.form.items):
                right = rng.random() < 1 / (1 + np.exp(-1.5 * (theta[i] - b[j])))
                if j == WRONG_KEY:
                    answers[fi.id] = "B" if right else rng.choice(["A", "C", "D"])
                elif j == DEAD:
                    answers[fi.id] = "A" if right else rng.choice(["B", "C"])
                else:
                    answers[fi.id] = "A" if right else rng.choice(["B", "C", "D"])
            self.attempts.append(self._sit(f"考生{i:03d}", answers))
        scoring.score_batch(self.batch)
        assert self.batch.state == BatchState.MARKED

    def _sit(self, name: str, answers: dict) -> Attempt:
        cand = self.make.candidate(self.org, name=name)
        entry = RosterEntry(batch_id=self.batch.id, candidate_id=cand.id, ticket_no=f"T26{next(_tickets):07d}",
                            order_seed=1, form_label="A")
        self.db.session.add(entry)
        self.db.session.flush()
        now = clock.now()
        att = Attempt(batch_id=self.batch.id, roster_entry_id=entry.id, form_id=self.form.id, order_seed=1,
                      status=AttemptStatus.SUBMITTED, started_at=now - timedelta(hours=2),
                      deadline_at=now - timedelta(minutes=30), finished_at=now - timedelta(hours=1))
        self.db.session.add(att)
        self.db.session.flush()
        for fi_id, answer in answers.items():
            self.db.session.add(Response(attempt_id=att.id, form_item_id=fi_id, answer=str(answer), seq=1,
                                         saved_at=now - timedelta(hours=1)))
        self.db.session.flush()
        return att

    def results(self) -> dict[int, Result]:
        rows = self.db.session.scalars(select(Result).where(Result.batch_id == self.batch.id))
        return {r.attempt_id: r for r in rows}
