"""Results: computing, 复核 by a second person, corrections with four eyes (originals kept),
publication gating `published_result`, score review applications in working days with their
scope rule and overdue flag, and the score list as PDF and Excel."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from examsys import clock, transaction
from examsys.audit.models import AuditEvent
from examsys.delivery.models import BatchState, CorrectionStatus, ItemScore, Result
from examsys.delivery.scoring import grading, marking, workdays
from examsys.delivery.scoring import services as results
from examsys.errors import Conflict, PermissionDenied, ValidationError
from tests.delivery.test_grading import PERFECT, SECTIONS, GradingWorld
from tests.jobs.pdfs import pdf_via_job


def _marked_world(make, db, *, sections=SECTIONS):
    w = GradingWorld(make, db, sections=sections)
    w.e1, w.a1 = w.candidate("张三", PERFECT)
    w.e2, w.a2 = w.candidate("=HYPERLINK(\"x\")", {"judge": True, "single": "B"})
    w.e3, _ = w.candidate("缺考者", {}, attempt=False)
    grading.score_batch(w.batch)
    for s in db.session.scalars(select(ItemScore).where(ItemScore.batch_id == w.batch.id,
                                                        ItemScore.needs_marking.is_(True))):
        marking.record_mark(w.markers[0], s, 8)
        marking.record_mark(w.markers[1], s, 8)
    assert w.batch.state == BatchState.MARKED
    return w


@pytest.fixture
def world(make, db, frozen_clock):
    return _marked_world(make, db)


def _published(w):
    results.compute_results(w.batch, w.admin)
    results.review_batch(w.batch, w.admin2)
    results.publish(w.batch, w.admin)


def test_compute_totals_sections_and_pass(world, db):
    out = {r.attempt_id: r for r in results.compute_results(world.batch, world.admin)}
    r1, r2 = out[world.a1.id], out[world.a2.id]
    assert (r1.total, r1.final_total, r1.passed) == (18.0, 18.0, True)  # 2+2+4+2+8
    assert (r2.total, r2.passed) == (2.0, False)
    assert [s["score"] for s in r1.section_scores] == [2.0, 2.0, 4.0, 2.0, 8.0]
    assert r1.pass_mark == 12.0
    # Idempotent.
    assert {r.id for r in results.compute_results(world.batch, world.admin)} == {r1.id, r2.id}


def test_review_needs_a_second_person_and_passes_clean_batch(world, db):
    results.compute_results(world.batch, world.admin)
    with pytest.raises(PermissionDenied):
        results.review_batch(world.batch, world.admin)  # computed them
    review = results.review_batch(world.batch, world.admin2, "无误")
    assert review.passed and review.findings == [] and review.checked == 2
    assert world.batch.state == BatchState.REVIEWED
    r = db.session.scalar(select(Result).where(Result.attempt_id == world.a1.id))
    assert r.reviewed_by_id == world.admin2.id


def test_review_finds_adding_and_recording_errors(world, db):
    results.compute_results(world.batch, world.admin)
    r = db.session.scalar(select(Result).where(Result.attempt_id == world.a1.id))
    r.final_total = 17.0  # a tampered sum
    judge = db.session.scalar(select(ItemScore).where(ItemScore.attempt_id == world.a2.id, ItemScore.section == 1))
    judge.final_score = judge.auto_score = 2.0  # single "B" is wrong: recorded as right
    db.session.flush()
    review = results.review_batch(world.batch, world.admin2)
    kinds = sorted({f["kind"] for f in review.findings})
    assert not review.passed and kinds == ["adding", "recording"]
    assert world.batch.state == BatchState.MARKED


def test_correction_needs_a_second_person_and_keeps_originals(world, db):
    results.compute_results(world.batch, world.admin)
    item = db.session.scalar(select(ItemScore).where(ItemScore.attempt_id == world.a2.id, ItemScore.section == 0))
    c = results.request_correction(world.admin, world.a2, 0.5, "登分错误", item_score=item)
    # The refusal is recorded after the refused call is undone (here: its SAVEPOINT).
    _, error = transaction.attempt(lambda: results.decide_correction(world.admin, c, approve=True))
    assert isinstance(error, PermissionDenied) and error.code == "self_approval"
    assert c.status == CorrectionStatus.PENDING
    refused = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "score_correction.self_approval_refused")).all()
    assert len(refused) == 1
    results.decide_correction(world.admin2, c, approve=True, comment="核实")
    r = db.session.scalar(select(Result).where(Result.attempt_id == world.a2.id))
    assert (r.total, r.final_total) == (2.0, 0.5)
    assert item.final_score == 2.0 and c.original_score == 2.0 and c.approved_by_id == world.admin2.id
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "score_correction.approved")).one()


def test_self_approval_through_the_page_is_403(world, db, client):
    from tests.conftest import factories

    results.compute_results(world.batch, world.admin)
    c = results.request_correction(world.admin, world.a1, 17, "合分错误")
    db.session.commit()
    client.post("/login", data={"username": world.admin.username, "password": factories.PASSWORD})
    assert client.post(f"/delivery/corrections/{c.id}/decide", data={"decision": "approve"}).status_code == 403
    assert db.session.get(type(c), c.id).status == CorrectionStatus.PENDING


def test_review_by_who_computed_is_said_on_the_page_and_recorded(world, db, client):
    """Issue 14, point 2: not a bare 403 but the results page saying why and who may; the refusal
    stays in the process record; nothing of the review is written."""
    from examsys.delivery.models import ResultReview
    from tests.conftest import factories

    results.compute_results(world.batch, world.admin)
    db.session.commit()
    client.post("/login", data={"username": world.admin.username, "password": factories.PASSWORD})
    page = client.get(f"/delivery/batches/{world.batch.id}/results").get_data(as_text=True)
    assert "复核须由计分以外的另一人完成" in page and world.admin2.display_name in page
    resp = client.post(f"/delivery/batches/{world.batch.id}/results/review", data={"note": "x"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/delivery/batches/{world.batch.id}/results")
    assert "复核须由计分以外的另一人完成" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert db.session.scalars(select(ResultReview)).all() == []
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permission.denied")).all()
    assert [e.data["code"] for e in denied] == ["reviewer_computed"]
    assert world.batch.state == BatchState.MARKED


def test_publication_gates_published_result(world, db):
    results.compute_results(world.batch, world.admin)
    assert results.published_result(world.e1) is None
    results.review_batch(world.batch, world.admin2)
    assert results.published_result(world.e1) is None
    results.publish(world.batch, world.admin)
    assert world.batch.state == BatchState.PUBLISHED and world.batch.published_at == clock.now()
    data = results.published_result(world.e1)
    assert data["total"] == 18.0 and data["passed"] is True and data["status"] == "scored"
    assert [s["score"] for s in data["sections"]] == [2.0, 2.0, 4.0, 2.0, 8.0]
    assert results.published_result(world.e3)["status"] == "absent"
    assert "key" not in str(data)


def test_publish_refused_before_review(world):
    results.compute_results(world.batch, world.admin)
    with pytest.raises(Conflict):
        results.publish(world.batch, world.admin)


def test_workdays_skip_weekends_and_configured_holidays(app):
    # Friday 2026-11-27 10:00 Shanghai; 1 working day → ends Monday 24:00.
    fri = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert workdays.add_workdays(fri, 1) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert workdays.add_workdays(fri, 1, holidays=frozenset({date(2026, 11, 30)}),
                                 extra_workdays=frozenset()) == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert workdays.add_workdays(fri, 1, holidays=frozenset(),
                                 extra_workdays=frozenset({date(2026, 11, 28)})) == datetime(2026, 11, 28, 16, 0,
                                                                                             tzinfo=UTC)


def test_review_window_in_working_days_with_a_weekend(make, db, frozen_clock):
    # Clock: Tuesday 2026-11-24 10:00 Shanghai. 3 working days → Wed, Thu, Fri; apply until Fri 24:00.
    w = _marked_world(make, db)
    w.batch.review_apply_days, w.batch.review_answer_days = 3, 2
    _published(w)
    assert results.apply_until(w.batch) == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    frozen_clock.advance(timedelta(days=3, hours=5))  # Friday 15:00 local: still open
    req = results.apply_for_review(w.e1, "adding", "合分可能有误")
    # 2 working days from Friday: Monday, Tuesday (the weekend skipped) → Tuesday 24:00.
    assert req.due_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert not req.overdue
    with pytest.raises(Conflict):
        results.apply_for_review(w.e1, "adding", "再次申请")  # one open at a time
    frozen_clock.advance(timedelta(days=1))  # Saturday: window closed
    with pytest.raises(Conflict):
        results.apply_for_review(w.e2, "zero_or_absent", "晚了")
    frozen_clock.advance(timedelta(days=4))  # Wednesday: answer overdue
    assert req.overdue
    results.answer_review_request(w.admin2, req, outcome="unchanged", answer="经复核，合分无误")
    assert req.overdue and req.answered_by_id == w.admin2.id  # answered late stays flagged


def test_machine_scored_paper_reviewed_only_at_zero_or_absent(make, db, frozen_clock):
    w = _marked_world(make, db, sections=SECTIONS[:4])
    w.e4, w.a4 = w.candidate("零分", {})
    grading.score_batch(w.batch)
    _published(w)
    with pytest.raises(ValidationError):
        results.apply_for_review(w.e1, "recording", "机评也要查")  # 10 points, machine-scored
    with pytest.raises(ValidationError):
        results.apply_for_review(w.e1, "zero_or_absent", "不是零分")
    assert results.apply_for_review(w.e4, "recording", "零分不合理").scope.value == "recording"
    assert results.apply_for_review(w.e3, "zero_or_absent", "我参加了考试").attempt_id is None


def test_apply_before_publication_refused(world):
    with pytest.raises(Conflict):
        results.apply_for_review(world.e1, "adding", "太早")


def test_score_list_pdf_and_excel(world, db, tmp_path):
    from openpyxl import load_workbook

    from examsys.reports import results as reports

    _published(world)
    pdf = reports.score_list_pdf(world.batch)
    path = tmp_path / "scores.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "张三" in text and "缺考者" in text and world.e1.ticket_no in text and "成绩单" in text
    assert world.e1.candidate.id_number_masked in text
    report = reports.score_report_pdf(world.batch, world.a1)
    (tmp_path / "report.pdf").write_bytes(report)
    text = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "张三" in text and "成绩报告单" in text and "18" in text
    wb = load_workbook(io.BytesIO(reports.score_list_xlsx(world.batch)))
    cells = [c for row in wb.active.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    assert not [c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
    assert any(c.value == "张三" for c in cells) and any(c.value == "'=HYPERLINK(\"x\")" for c in cells)


def test_results_pages(world, db, client):
    from tests.conftest import factories

    _published(world)
    db.session.commit()
    client.post("/login", data={"username": world.admin.username, "password": factories.PASSWORD})
    html = client.get(f"/delivery/batches/{world.batch.id}/results").get_data(as_text=True)
    assert "张三" in html and "成绩单" in html
    assert client.get(f"/delivery/batches/{world.batch.id}/results/requests").status_code == 200
    resp = client.get(f"/delivery/batches/{world.batch.id}/results/scores.xlsx")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/vnd.openxml")
    assert pdf_via_job(client, f"/delivery/attempts/{world.a1.id}/report.pdf").data.startswith(b"%PDF")
