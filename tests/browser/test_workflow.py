"""The workflow after the exam in a real browser (issue 14, points 1–3): each batch page says, for
its state, what comes next and links to it, so that results are reached without typing a URL;
the 复核 says why the person who computed the results may not do it and who may, and the demo's
second exam admin does it; the review queue and page show an item as written and what the
reviewer checks it against."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login
from tests.browser.flow_fixtures import FlowWorld, _batch_at, flow_world_fixture  # noqa: F401  (`flow_world`)
from tests.browser.test_exam_flow import _context

pytestmark = pytest.mark.browser

# batch (as flow_world names it) → (the step it is at, the label of its primary link)
NEXT = {
    "filed": ("exam", None),
    "closed": ("marking", "成绩与评分"),
    "marking": ("marking", None),
    "computed": ("review", None),  # examadmin computed: the 复核 is not theirs
    "reviewed": ("publish", "成绩与评分"),
    "published": ("requests", None),
}


def _staff(browser, world: FlowWorld, username: str):
    ctx, pg = _context(browser)
    login(pg, world.base, username, world.password(username))
    return ctx, pg


@pytest.mark.parametrize("which", sorted(NEXT))
def test_batch_page_says_what_comes_next(flow_world, browser, which):
    at, primary = NEXT[which]
    ctx, pg = _staff(browser, flow_world, "examadmin")
    try:
        batch_id = flow_world.batches[which]
        pg.goto(f"{flow_world.base}/delivery/batches/{batch_id}")
        card = pg.locator("section.next-step")
        assert card.locator("[aria-current=step]").get_attribute("data-step") == at
        assert card.locator(".next-text").inner_text().strip()
        if primary:
            assert card.locator("a.btn-primary").inner_text() == primary
        if which != "filed":
            # Results are one click away from the batch page, whatever the state after the exam.
            card.get_by_role("link", name="成绩与评分").click()
            pg.wait_for_url(f"**/delivery/batches/{batch_id}/results")
            assert pg.locator("h1").inner_text().startswith("成绩")
        assert pg.console_errors == [], pg.console_errors
    finally:
        ctx.close()


def test_published_batch_links_score_reviews_and_archive(flow_world, browser):
    ctx, pg = _staff(browser, flow_world, "examadmin")
    try:
        pg.goto(f"{flow_world.base}/delivery/batches/{flow_world.batches['published']}")
        card = pg.locator("section.next-step")
        assert "公示至" in card.inner_text()
        card.get_by_role("link", name="成绩复核申请（0 件待答复）").click()
        pg.wait_for_url("**/results/requests")
        pg.go_back()
        pg.locator("section.next-step").get_by_role("link", name="批次档案（本页“下载”）").click()
        assert pg.locator("#downloads").get_by_role("button", name="下载批次档案").is_visible()
    finally:
        ctx.close()


def test_marking_batch_sends_markers_to_the_queue(flow_world, browser):
    ctx, pg = _staff(browser, flow_world, "proctor")
    try:
        batch_id = flow_world.batches["marking"]
        pg.goto(f"{flow_world.base}/delivery/batches/{batch_id}")
        card = pg.locator("section.next-step")
        assert "待二评" in card.inner_text()
        card.get_by_role("link", name="阅卷").click()
        pg.wait_for_url(f"**/delivery/batches/{batch_id}/marking")
        assert pg.console_errors == [], pg.console_errors
    finally:
        ctx.close()


def test_review_by_the_second_person(flow_world, browser):
    batch_id = _batch_at(flow_world.app, "computed")
    results = f"{flow_world.base}/delivery/batches/{batch_id}/results"
    ctx, pg = _staff(browser, flow_world, "examadmin")
    try:
        pg.goto(f"{flow_world.base}/delivery/batches/{batch_id}")
        note = pg.locator("section.next-step .notice")
        assert "复核须由计分以外的另一人完成" in note.inner_text() and "钱芳" in note.inner_text()
        pg.goto(results)
        button = pg.get_by_role("button", name="复核（第二人）")
        assert button.is_disabled()
        refusal = pg.locator("#review-refusal").inner_text()
        assert "复核须由计分以外的另一人完成" in refusal and "考务管理员 钱芳" in refusal
        # Sent anyway (an old tab, a second click): the page says why, not a bare 403.
        pg.evaluate("""() => { const f = document.querySelector('form.review-form');
                               f.querySelector('button').disabled = false; f.submit(); }""")
        pg.wait_for_load_state()
        assert pg.url == results
        assert "复核须由计分以外的另一人完成" in pg.locator(".flash-error").inner_text()
        assert pg.console_errors == [], pg.console_errors
    finally:
        ctx.close()

    ctx, pg = _staff(browser, flow_world, "examadmin2")
    try:
        pg.goto(f"{flow_world.base}/delivery/batches/{batch_id}")
        pg.locator("section.next-step").get_by_role("link", name="成绩与评分").click()
        pg.wait_for_url(results)
        assert pg.locator("#review-refusal").count() == 0
        pg.fill("input[name=note]", "逐人核对无误")
        pg.get_by_role("button", name="复核（第二人）").click()
        pg.wait_for_load_state()
        assert "复核已记录" in pg.locator(".flash-success").inner_text()
        assert "已复核" in pg.locator(".page-head").inner_text()
        assert pg.get_by_role("button", name="发布成绩").is_visible()
    finally:
        ctx.close()


def test_review_queue_shows_items_as_written(flow_world, browser):
    ctx, pg = _staff(browser, flow_world, "reviewer")
    try:
        pg.goto(flow_world.base + "/bank/review")
        text = pg.locator("table").inner_text()
        # Options on their own, upper case and Ω kept (the search text had "km fr ka kt", "3ω").
        assert "KM" in text and "3Ω" in text, text[:500]
        assert "km fr ka kt" not in text
        row = pg.locator("tr", has_text="接触器的文字符号")
        assert row.locator(".preview-options li").count() == 4
        row.get_by_role("link", name="审核").click()
        pg.wait_for_url("**/review")
        facts = pg.locator("section.review-facts")
        text = facts.inner_text()
        assert "鉴定点" in text and "›" in facts.locator(".point-path").inner_text()
        assert "级/" in text  # levels by name, e.g. 四级/中级工
        difficulty = facts.locator("dt", has_text="难度").locator("xpath=following-sibling::dd[1]").inner_text()
        assert difficulty in {"易", "较易", "中等", "较难", "难"}, difficulty
        assert pg.console_errors == [], pg.console_errors
    finally:
        ctx.close()
