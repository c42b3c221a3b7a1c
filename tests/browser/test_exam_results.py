"""Published results on the candidate's page (issue 5 point 9): after publication the candidate
sees the total, 合格/不合格, per-section scores and the 公示 end, applies for a score review through
the dialog (keyboard only), and sees the request listed with its due date."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.exam_fixtures import build_exam_batch, exam_world_fixture  # noqa: F401  (`exam_world`)
from tests.browser.test_exam_flow import _context, real_errors

pytestmark = pytest.mark.browser


def _answer_for(content: dict, qtype: str):
    key = content.get("key")
    if qtype == "fill":
        return [k[0] if isinstance(k, list) else k for k in (key or [])]
    if qtype in ("judge", "single", "multi"):
        return key
    return "<p>按规程断电、验电、挂接地线，穿戴绝缘防护用品后作业。</p>"


def publish_one(app, demo_candidates: list[dict]) -> dict:
    """A second batch in the live server's database: one candidate sits it, it is closed, scored,
    double-marked, computed, 复核 by a second person and published. Returns the candidate."""
    from examsys.accounts.models import Organisation, User
    from examsys.assembly.models import Paper, PaperForm
    from examsys.assembly.queries import effective_versions
    from examsys.delivery.batches import services as batches
    from examsys.delivery.exam import services as attempts
    from examsys.delivery.models import Batch, ItemScore, Result, RosterEntry
    from examsys.delivery.scoring import grading, marking
    from examsys.delivery.scoring import services as results
    from examsys.extensions import db
    from examsys.permissions import Role
    from tests.factories import Factories

    batch_id, by_name, _ = build_exam_batch(app)
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        paper = db.session.get(Paper, batch.paper_id)
        snap = dict(paper.blueprint_snapshot)
        snap.update(total_points=27.0, pass_mark=16.0)  # 7 × 1 + 4 × 5 points on the test paper
        paper.blueprint_snapshot = snap
        users = {u.username: u for u in db.session.scalars(select(User))}
        admin = users["examadmin"]
        admin2 = Factories(db).user(roles=(Role.EXAM_ADMIN,), org=db.session.get(Organisation, batch.organisation_id))
        known = next(c for c in demo_candidates if c["name"] in by_name)  # we know their ID number
        name = known["name"]
        ticket, entry_id = by_name[name]
        entry = db.session.get(RosterEntry, entry_id)
        attempt = attempts.start_attempt(entry)
        versions = effective_versions(db.session.get(PaperForm, attempt.form_id))
        for seq, (fi_id, version) in enumerate(versions.items(), start=1):
            attempts.save_response(attempt, fi_id, _answer_for(version.content or {}, version.qtype.value), seq)
        attempts.submit(attempt)
        batches.close_batch(admin, batch)
        grading.score_batch(batch)
        for s in db.session.scalars(select(ItemScore).where(ItemScore.batch_id == batch.id,
                                                            ItemScore.needs_marking.is_(True))):
            for marker in (users["proctor"], users["proctor2"]):
                marking.record_mark(marker, s, s.max_points)
        results.compute_results(batch, admin)
        results.review_batch(batch, admin2, "无误")
        results.publish(batch, admin)
        result = db.session.scalar(select(Result).where(Result.attempt_id == attempt.id))
        out = {"ticket_no": ticket, "id_number": known["id_number"], "total": result.final_total,
               "passed": result.passed}
        db.session.commit()
    return out


def test_published_result_and_review(exam_world, browser):
    cand = publish_one(exam_world.app, exam_world.demo["candidates"])
    ctx, pg = _context(browser)
    try:
        pg.goto(exam_world.base + "/exam/")
        pg.fill("#ticket_no", cand["ticket_no"])
        pg.fill("#id_number", cand["id_number"])
        pg.click("#login-btn")
        result = pg.locator(".exam-result")
        result.wait_for()
        assert cand["passed"] and cand["total"] == 27.0  # every answer right, both markers gave full marks
        assert result.locator(".exam-result-verdict").inner_text() == "合格"
        assert result.locator(".exam-result-score").inner_text() == "27"
        assert result.locator(".exam-result-sections tbody tr").count() == 6
        assert "公示期至" in result.inner_text()

        # Keyboard only: the button opens the dialog, a scope is chosen, the reason typed, Enter.
        result.get_by_role("button", name="申请成绩复核").focus()
        pg.keyboard.press("Enter")
        dialog = pg.locator("#review-dialog")
        dialog.wait_for(state="visible")
        pg.keyboard.press("Enter")  # nothing chosen: refused in Chinese, dialog stays
        pg.locator("#review-error").filter(has_text="请选择复核范围").wait_for()
        dialog.locator("input[value=adding]").check()
        pg.fill("#review-reason", "各部分得分相加与总分不一致")
        pg.locator("#review-submit").press("Enter")
        dialog.wait_for(state="hidden")
        pg.locator("#results-status").filter(has_text="答复期限").wait_for()
        listed = pg.locator(".exam-review")
        listed.wait_for()
        assert "合分错误" in listed.inner_text() and "处理中" in listed.inner_text()
        assert result.get_by_role("button", name="申请成绩复核").count() == 0  # one open at a time
        assert real_errors(pg) == [], real_errors(pg)

        # The same application again through the API: 409 with a Chinese message.
        err = pg.evaluate("""() => ExamSys.request('POST', '/candidate/results/review',
            {exam_id: Number(document.querySelector('.exam-result').dataset.exam), scope: 'recording',
             reason: 'x'}).then(() => null, e => [e.status, e.message])""")
        assert err == [409, "已有一份复核申请正在处理"]
    finally:
        ctx.close()
