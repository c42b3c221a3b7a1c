"""Fixing a key after the exam: a reviewer confirms, a second person previews each candidate's
change (score and pass/fail) and applies it as approved corrections; originals stay untouched."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from examsys.analysis import keyfix
from examsys.analysis.models import KeyFixStatus
from examsys.audit.models import AuditEvent
from examsys.delivery.models import CorrectionStatus, ItemScore, ScoreCorrection
from examsys.delivery.scoring import services as scoring
from examsys.errors import Conflict, PermissionDenied, ValidationError
from tests.analysis.world import WRONG_KEY, StatsWorld


@pytest.fixture
def world(make, db, frozen_clock):
    w = StatsWorld(make, db)
    scoring.compute_results(w.batch, w.admin)
    return w


def test_confirm_preview_apply(world, db):
    fi = world.form.items[WRONG_KEY]
    before = world.results()
    originals = {s.id: s.final_score
                 for s in db.session.scalars(select(ItemScore).where(ItemScore.form_item_id == fi.id))}
    fix = keyfix.confirm_key(world.reviewer, world.batch, fi, "B", "教材第3章：正确答案为B")
    assert fix.status == KeyFixStatus.CONFIRMED and (fix.old_key, fix.new_key) == ("A", "B")
    rows = keyfix.preview(fix)
    assert len(rows) == 80
    by_attempt = {r.attempt.id: r for r in rows}
    for r in rows:
        answer_b = r.new_score == 1.0
        assert r.old_score == (0.0 if answer_b else originals[r.item_score.id])
        assert r.new_total == pytest.approx(r.old_total - r.old_score + r.new_score)
        assert r.new_passed == (r.new_total >= r.pass_mark)
    assert any(r.pass_changed for r in rows)
    changed = keyfix.apply_fix(world.admin, fix)
    assert fix.status == KeyFixStatus.APPLIED and fix.affected == len(changed) > 0
    after = world.results()
    for attempt_id, result in after.items():
        row = by_attempt[attempt_id]
        assert result.final_total == pytest.approx(row.new_total)
        assert result.passed == row.new_passed
        assert result.total == before[attempt_id].total  # the original sum is never touched
    # originals untouched; one approved correction per change, approved by the reviewer
    assert {s.id: s.final_score for s in db.session.scalars(
        select(ItemScore).where(ItemScore.form_item_id == fi.id))} == originals
    corrections = db.session.scalars(select(ScoreCorrection)).all()
    assert len(corrections) == len(changed)
    assert all(c.status == CorrectionStatus.APPROVED and c.approved_by_id == world.reviewer.id
               and c.requested_by_id == world.admin.id and "答案更正" in c.reason for c in corrections)
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions.count("score_correction.regraded") == len(changed)
    assert {"key_fix.confirmed", "key_fix.applied"} <= set(actions)
    with pytest.raises(Conflict):
        keyfix.apply_fix(world.admin2, fix)


def test_four_eyes_and_refusals(world, make):
    fi = world.form.items[WRONG_KEY]
    with pytest.raises(PermissionDenied):
        keyfix.confirm_key(world.admin, world.batch, fi, "B", "依据")  # not a reviewer
    with pytest.raises(ValidationError):
        keyfix.confirm_key(world.reviewer, world.batch, fi, "A", "依据")  # unchanged
    with pytest.raises(ValidationError):
        keyfix.confirm_key(world.reviewer, world.batch, fi, "E", "依据")
    with pytest.raises(ValidationError):
        keyfix.confirm_key(world.reviewer, world.batch, fi, "B", " ")
    fix = keyfix.confirm_key(world.reviewer, world.batch, fi, "B", "依据")
    with pytest.raises(Conflict):
        keyfix.confirm_key(world.reviewer, world.batch, fi, "C", "依据")  # one waiting already
    with pytest.raises(PermissionDenied):
        keyfix.apply_fix(world.reviewer, fix)  # no RESULT_REVIEW
