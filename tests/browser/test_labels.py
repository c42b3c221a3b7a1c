"""Labels that agree, in a real browser on the demo (issue 14, point 5): the sign-in error names
the room code as its field does (考场口令); a batch that asks for no room code prints none; a
handed-in exam says 已交卷 once; the proctor's anomaly count opens the events behind it; the
submit dialog lists unanswered questions as runs (第 3–7 题), not one button each."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import login
from tests.browser.flow_fixtures import FlowWorld, flow_world_fixture  # noqa: F401  (`flow_world`)
from tests.browser.test_exam_flow import _context, candidate_login, enter_exam, real_errors

pytestmark = pytest.mark.browser


def _candidate(world: FlowWorld, index: int) -> dict:
    return world.demo["candidates"][index]


def test_sign_in_error_says_room_code_as_the_field_does(flow_world, browser):
    ctx, pg = _context(browser)
    try:
        pg.goto(flow_world.base + "/exam/")
        label = pg.locator("label[for=access_code]").inner_text()
        assert "考场口令" in label
        pg.fill("#ticket_no", _candidate(flow_world, 0)["ticket_no"])
        pg.fill("#id_number", "110105199001011234")  # well formed, not theirs
        pg.click("#login-btn")
        error = pg.locator("#login-error")
        error.filter(has_text="不正确").wait_for()
        assert "考场口令" in error.inner_text() and "验证码" not in error.inner_text()
    finally:
        ctx.close()


def test_batch_without_room_code_prints_none(flow_world, browser):
    from examsys.delivery.models import Batch

    batch_id = flow_world.batches["filed"]
    with flow_world.app.app_context():
        from examsys.extensions import db

        batch = db.session.get(Batch, batch_id)
        assert not batch.require_access_code
        code = batch.rooms[0].access_code
    assert all(c["access_code"] is None for c in flow_world.demo["candidates"])  # `examsys demo --json`
    for username in ("examadmin", "proctor"):
        ctx, pg = _context(browser)
        try:
            login(pg, flow_world.base, username, flow_world.password(username))
            pg.goto(f"{flow_world.base}/delivery/batches/{batch_id}")
            assert code not in pg.locator("main").inner_text()
            if username == "proctor":
                pg.goto(f"{flow_world.base}/delivery/proctor/{batch_id}")
                pg.locator(".console-table").first.wait_for()
                assert code not in pg.locator("main").inner_text()
                assert pg.locator(".access-code").count() == 0
        finally:
            ctx.close()


def test_submit_dialog_lists_runs_and_the_list_says_handed_in_once(flow_world, browser):
    cand = _candidate(flow_world, 1)
    ctx, pg = _context(browser)
    try:
        candidate_login(pg, flow_world.base, cand)
        enter_exam(pg)
        total = pg.evaluate("() => ExamSys.page.S.refs.length")
        assert total > 20
        pg.click("#submit-btn")
        dialog = pg.locator("#submit-dialog")
        dialog.wait_for(state="visible")
        chips = dialog.locator(".exam-unanswered .exam-chip")
        # Nothing answered: one run covers every question.
        assert chips.all_inner_texts() == [f"第 1–{total} 题"]
        assert pg.evaluate("() => ExamSys.page.runs([2, 3, 4, 5, 6, 11, 14, 15])") == [[2, 6], [11, 11], [14, 15]]
        chips.first.click()  # back to the first unanswered question
        dialog.wait_for(state="hidden")
        pg.click("#submit-btn")
        dialog.wait_for(state="visible")
        pg.click("#submit-confirm")
        pg.locator("#survey-view").wait_for(state="visible")
        pg.goto(flow_world.base + "/exam/")
        item = pg.locator("#exam-list .exam-exam")
        item.first.wait_for()
        text = item.first.inner_text()
        assert text.count("已交卷") == 1, text
        assert item.first.locator("button").count() == 0
        assert real_errors(pg) == [], real_errors(pg)
    finally:
        ctx.close()


def test_anomaly_count_opens_the_events(flow_world, browser):
    from examsys.delivery.exam import services as exam
    from examsys.delivery.models import RosterEntry
    from examsys.extensions import db

    batch_id = flow_world.batches["filed"]
    cand = _candidate(flow_world, 2)
    with flow_world.app.app_context():
        entry = db.session.scalar(select(RosterEntry).where(RosterEntry.ticket_no == cand["ticket_no"]))
        attempt = exam.attempt_of(entry) or exam.start_attempt(entry)
        for kind in ("page_hidden", "copy"):
            exam.record_client_event(attempt, kind, {})
        db.session.commit()
    ctx, pg = _context(browser)
    try:
        login(pg, flow_world.base, "proctor", flow_world.password("proctor"))
        pg.goto(f"{flow_world.base}/delivery/proctor/{batch_id}")
        cell = pg.locator(f"tr:has-text('{cand['ticket_no']}') [data-field=flags]")
        assert cell.inner_text() == "2"
        pg.wait_for_timeout(5500)  # one refresh of the live table keeps the link
        cell.locator("a").click()
        pg.wait_for_url(re.compile(r".*/events\?attempt=\d+$"))
        rows = pg.locator("main tbody tr")
        assert rows.count() == 2
        text = pg.locator("main").inner_text()
        assert "页面被隐藏" in text and "复制" in text and cand["name"] in text
        assert pg.console_errors == [], pg.console_errors
    finally:
        ctx.close()
