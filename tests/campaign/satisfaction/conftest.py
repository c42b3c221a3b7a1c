"""Satisfaction tests: the small province of the oversight tests (two cities, social
organisations and employers with 2026 batches) plus candidates on some batches with post-exam
survey answers written as rows, so that every figure can be recomputed from them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest

from examsys.delivery.models import RosterEntry
from examsys.delivery.models.survey import SurveyResponse
from examsys.extensions import db as _db
from tests.factories import valid_id_number
from tests.supervision.conftest import login  # noqa: F401  (re-exported for the tests)
from tests.supervision.province import Province, build_province

_tickets = itertools.count(1)


@dataclass
class Sat:
    p: Province
    entries: dict  # batch id → [(roster entry, ID number)]


def add_candidates(make, p: Province, batch, n: int) -> list[tuple[RosterEntry, str]]:
    org = next(o for o in p.orgs if o.id == batch.organisation_id)
    out = []
    for _ in range(n):
        k = next(_tickets)
        number = valid_id_number(5000 + k)
        cand = make.candidate(org, name=f"考生{k}", id_number=number)
        entry = RosterEntry(batch_id=batch.id, candidate_id=cand.id, ticket_no=f"T{k:06d}", order_seed=k)
        _db.session.add(entry)
        _db.session.flush()
        out.append((entry, number))
    return out


def answer(entry: RosterEntry, score: int, comment: str = "", days: int = 0) -> SurveyResponse:
    """All five questions answered `score`; satisfied when it is 4 or 5."""
    batch = entry.batch
    row = SurveyResponse(roster_entry_id=entry.id, batch_id=batch.id, answers={f"q{i}": score for i in range(1, 6)},
                         comment=comment, satisfied=score >= 4,
                         submitted_at=batch.window_end + timedelta(days=days))
    _db.session.add(row)
    _db.session.flush()
    return row


@pytest.fixture
def sat(make, db, frozen_clock) -> Sat:
    """orgs[0] (social, city 1): 10 answers, 9 satisfied; orgs[1] (social, city 2): 4 answers,
    2 satisfied, one comment; orgs[2] (social, city 1): nothing; orgs[3] (employer, city 1):
    3 answers, 1 satisfied. Each organisation's first batch has 3 more candidates who did not
    answer."""
    p = build_province(make)
    entries = {}
    plan = {0: [5] * 6 + [4] * 3 + [2], 1: [5, 4, 2, 1], 3: [5, 2, 1]}
    for i, scores in plan.items():
        org = p.orgs[i]
        batches = [b for b in p.batches if b.organisation_id == org.id]
        rows = add_candidates(make, p, batches[0], len(scores) + 3)
        entries[batches[0].id] = rows
        for (entry, _number), score in zip(rows, scores, strict=False):
            comment = "考场空调太冷" if score <= 2 else ""
            answer(entry, score, comment)
    db.session.commit()
    return Sat(p, entries)
