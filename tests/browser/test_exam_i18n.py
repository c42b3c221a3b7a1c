"""The candidate's exam in English, in a real browser: the language switch on the exam login page
(a CSRF-protected POST, CSP-clean), then the exam list and the exam page follow the language — the
answer card, buttons, countdown, dialogs and the scripts' own texts are English, and nothing
Chinese is left in the page's chrome (the items themselves are Chinese content)."""

from __future__ import annotations

import re

import pytest

from tests.browser.exam_fixtures import exam_world_fixture  # noqa: F401  (provides `exam_world`)
from tests.browser.test_exam_flow import _context, candidate_login, enter_exam, real_errors, wait_saved
from tests.i18n_scan import CJK

pytestmark = pytest.mark.browser

# The page's text and labels, without what is content or data rather than UI: the question,
# the candidate's name, the exam's name, scripts (the translations data block) and the language
# switch (each language is named in itself).
CHROME_TEXT = """(skip) => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll(['script', '.exam-lang'].concat(skip).join(',')).forEach(n => n.remove());
  const labels = Array.from(body.querySelectorAll('[aria-label],[title],[placeholder]'))
    .map(n => [n.getAttribute('aria-label'), n.getAttribute('title'), n.getAttribute('placeholder')].join(' '));
  return body.textContent + ' ' + labels.join(' ') + ' ' + document.title;
}"""


def chrome_cjk(pg, *skip: str) -> list[str]:
    return CJK.findall(pg.evaluate(CHROME_TEXT, list(skip)))


def test_exam_in_english(exam_world, browser):
    world, cand = exam_world, exam_world.candidate(8)
    ctx, pg = _context(browser)
    try:
        pg.goto(world.base + "/exam/")
        assert pg.locator("html").get_attribute("lang") == "zh-CN"
        assert pg.locator("#login-title").inner_text() == "考生登录"

        # The switch posts with its CSRF token and comes back to the exam login page.
        pg.click("button.exam-lang-btn[lang=en]")
        pg.wait_for_url(re.compile(r"/exam/$"))
        assert pg.locator("html").get_attribute("lang") == "en"
        assert pg.locator("#login-title").inner_text() == "Candidate sign-in"
        assert pg.locator("button.exam-lang-btn[aria-current=true]").inner_text() == "English"
        assert chrome_cjk(pg) == []

        # The script's own messages: a malformed ID number is refused before any request.
        pg.fill("#ticket_no", cand["ticket_no"])
        pg.fill("#id_number", "123")
        pg.click("#login-btn")
        assert pg.locator("#login-error").inner_text().startswith("The ID number has 18 characters")

        candidate_login(pg, world.base, cand)
        exams = pg.locator("#exam-list")
        assert "Start exam" in exams.inner_text()
        assert re.search(r"Duration: \d+ min", exams.inner_text())
        assert re.search(r"Exam time: [A-Z][a-z]{2} \d+, \d\d:\d\d – \d\d:\d\d", exams.inner_text())
        assert "Admission ticket no." in pg.locator("#candidate-props").inner_text()
        assert chrome_cjk(pg, "#candidate-props dd", "#who", ".exam-exam h2", ".exam-meta") == []

        enter_exam(pg)
        assert pg.locator("html").get_attribute("lang") == "en"
        assert pg.locator("#submit-btn").inner_text() == "Submit"
        assert pg.locator("#prev-btn").inner_text().strip().endswith("Previous")
        assert pg.locator("#next-btn").inner_text().strip().startswith("Next")
        assert pg.locator("#flag-text").inner_text() == "Flag question"
        assert pg.locator(".exam-timer-label").inner_text() == "Time left"
        assert re.fullmatch(r"(\d+:)?\d\d:\d\d", pg.locator("#timer-value").inner_text())
        assert pg.locator("#nav-title").inner_text() == "Answer card"
        assert re.fullmatch(r"Answered \d+ of \d+", pg.locator("#progress").inner_text())
        sections = pg.locator(".exam-nav-section").all_inner_texts()
        assert sections and all(re.fullmatch(r"\d+\. [A-Za-z /]+", s) for s in sections), sections
        assert re.fullmatch(r"Question 1, (Answered|Not answered)", pg.locator("#nav-0").get_attribute("aria-label"))
        assert pg.locator(".exam-qno").inner_text() == "Question 1"
        assert chrome_cjk(pg, "#question .exam-stem", "#question .exam-options", "#cand-name", "#exam-title") == []

        # Answer a true/false item through its English button; the save state says so in English.
        pg.click(".exam-nav-section:text-matches('True/false') + .exam-nav-grid .exam-navbtn")
        pg.click(".exam-judge-true")
        assert pg.locator(".exam-judge-true").inner_text().strip().endswith("True")
        wait_saved(pg)
        pg.locator("#save-state").filter(has_text="✓ Saved").wait_for()
        pg.click("#flag-btn")
        assert pg.locator("#flag-text").inner_text() == "Remove flag"

        # The confirmation dialog, then back to the paper without submitting.
        pg.click("#submit-btn")
        dialog = pg.locator("#submit-dialog")
        dialog.wait_for(state="visible")
        summary = pg.locator("#submit-summary").inner_text()
        assert re.search(r"Questions: \d+\. Answered: 1\. Not answered: \d+\.", summary), summary
        assert "These questions are flagged:" in summary
        assert re.search(r"Question \d+ · (True/false|Single choice)", summary)
        assert CJK.findall(dialog.inner_text()) == []
        pg.click("#submit-cancel")
        dialog.wait_for(state="hidden")

        assert real_errors(pg) == [], real_errors(pg)  # CSP violations and script errors

        # And back to Chinese: the exam page follows on reload.
        pg.goto(world.base + "/exam/")
        pg.click("button.exam-lang-btn[lang=zh-CN]")
        pg.wait_for_url(re.compile(r"/exam/$"))
        pg.goto(world.base + "/exam/app")
        pg.locator("#exam-view").wait_for(state="visible")
        assert pg.locator("#submit-btn").inner_text() == "交卷"
        assert re.fullmatch(r"已答 1 题 / 共 \d+ 题", pg.locator("#progress").inner_text())
        assert real_errors(pg) == [], real_errors(pg)
    finally:
        ctx.close()
