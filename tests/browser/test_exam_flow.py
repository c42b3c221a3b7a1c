"""The candidate's exam in a real browser (RELIABILITY 11, issue 5 point 10): log in, answer items
of every type, lose the network and keep answering, reconnect, reload, resume on another
computer, submit through the confirmation dialog, answer the survey — and the server holds every
answer. Also: keyboard-only answering, the countdown against the server, the proctor console."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import login as staff_login
from tests.browser.exam_fixtures import exam_world_fixture  # noqa: F401  (provides `exam_world`)

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 800}


def _context(browser):
    ctx = browser.new_context(locale="zh-CN", viewport=VIEWPORT, timezone_id="Asia/Shanghai")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.console_errors = errors
    return ctx, pg


def real_errors(pg) -> list[str]:
    """Console errors other than the browser's own note of requests refused while offline
    (CSP violations and script errors stay)."""
    return [e for e in pg.console_errors if "ERR_INTERNET_DISCONNECTED" not in e]


def candidate_login(pg, base, cand):
    pg.goto(base + "/exam/")
    pg.fill("#ticket_no", cand["ticket_no"])
    pg.fill("#id_number", cand["id_number"])
    pg.click("#login-btn")
    pg.locator("#exam-list button.exam-btn-primary").first.wait_for()


def enter_exam(pg):
    pg.locator("#exam-list button.exam-btn-primary").first.click()
    pg.wait_for_url("**/exam/app")
    pg.locator("#exam-view").wait_for(state="visible")


def paper(pg) -> list[dict]:
    return pg.evaluate("""() => ExamSys.request('GET', '/attempts/' + ExamSys.status().attemptId + '/paper')
                          .then(p => p.items)""")


def status(pg) -> dict:
    return pg.evaluate("() => ExamSys.status()")


def wait_saved(pg, timeout=15000):
    pg.wait_for_function("() => ExamSys.status().pending === 0 && !ExamSys.status().offline", timeout=timeout)


def goto_item(pg, index):
    pg.click(f"#nav-{index}")
    pg.locator(".exam-qno").filter(has_text=f"第 {index + 1} 题").wait_for()


def answer(pg, item, n) -> object:
    """Answer `item` (shown now) in the n-th way; return the answer the server should store."""
    qtype = item["qtype"]
    if qtype == "judge":
        value = n % 2 == 0
        pg.click(f".exam-judge-{'true' if value else 'false'}")
        return value
    if qtype == "single":
        opt = item["options"][n % len(item["options"])]
        pg.click(f".exam-option:has(input[value='{opt['value']}'])")
        return opt["value"]
    if qtype == "multi":
        chosen = [item["options"][0]["value"], item["options"][2]["value"]]
        for v in chosen:
            pg.click(f".exam-option:has(input[value='{v}'])")
        return sorted(chosen)
    if qtype == "fill":
        inputs = pg.locator(".exam-blank-input")
        values = [f"答案{n}-{i}" for i in range(inputs.count())]
        for i, v in enumerate(values):
            inputs.nth(i).fill(v)
        return values
    text = f"第{n}次作答：先停电、验电，再挂接地线和标示牌。"
    pg.fill(".exam-answer-text", text)
    return text


def server_state(world, attempt_id):
    from examsys.delivery.models import Attempt, Response, SurveyResponse
    from examsys.extensions import db

    with world.app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        responses = {r.form_item_id: r.answer for r in db.session.scalars(
            select(Response).where(Response.attempt_id == attempt_id))}
        survey = db.session.scalar(select(SurveyResponse).where(
            SurveyResponse.roster_entry_id == attempt.roster_entry_id))
        return attempt.status.value, responses, survey


def test_candidate_answers_offline_reloads_resumes_elsewhere_and_submits(exam_world, browser):
    world, cand = exam_world, exam_world.candidate(0)
    ctx, pg = _context(browser)
    candidate_login(pg, world.base, cand)
    assert pg.locator("#candidate-props").inner_text().count(cand["name"]) == 1
    enter_exam(pg)
    assert pg.locator("#cand-name").inner_text() == cand["name"]
    items = paper(pg)
    attempt_id = status(pg)["attemptId"]
    expected: dict[int, object] = {}
    first_of = {}
    for i, it in enumerate(items):
        first_of.setdefault(it["qtype"], []).append(i)

    # Online: one item of every type.
    for qtype in ("judge", "single", "multi", "fill", "short", "calc"):
        i = first_of[qtype][0]
        goto_item(pg, i)
        expected[items[i]["item_ref"]] = answer(pg, items[i], 0)
    wait_saved(pg)
    assert pg.locator(f"#nav-{first_of['multi'][0]}.is-answered").count() == 1
    assert "✓" in pg.locator(f"#nav-{first_of['judge'][0]}").inner_text()

    # The countdown shows the server's time (within 2 s).
    server_left = pg.evaluate("() => ExamSys.request('GET', '/attempts/' + ExamSys.status().attemptId)"
                              ".then(a => a.remaining_seconds)")
    h, m, s = ([0] + [int(x) for x in pg.locator("#timer-value").inner_text().split(":")])[-3:]
    assert abs((h * 3600 + m * 60 + s) - server_left) <= 2

    # Offline: keep answering (a second judge and single, and change the fill-in), banner shows.
    ctx.set_offline(True)
    offline_items = [first_of["judge"][1], first_of["single"][1], first_of["fill"][0]]
    for n, i in enumerate(offline_items, start=1):
        goto_item(pg, i)
        expected[items[i]["item_ref"]] = answer(pg, items[i], n)
    banner = pg.locator("#offline-banner")
    banner.wait_for(state="visible", timeout=10000)
    assert "网络连接已断开，答案已保存在本机，恢复连接后自动保存到服务器" in banner.inner_text()
    pg.wait_for_function("() => ExamSys.status().pending >= 3", timeout=5000)
    stored_locally = pg.evaluate(f"() => localStorage.getItem('examsys.exam.buffer.{attempt_id}')")
    assert "答案3-0" in stored_locally
    # Leaving now would lose nothing, but the page warns anyway.
    assert pg.evaluate("""() => { const e = new Event('beforeunload', {cancelable: true});
                          window.dispatchEvent(e); return e.defaultPrevented; }""")
    _, on_server, _ = server_state(world, attempt_id)
    assert on_server.get(items[first_of["judge"][1]]["item_ref"]) is None

    # Back online: the pending answers go out in order and are acknowledged.
    ctx.set_offline(False)
    wait_saved(pg, timeout=20000)
    banner.wait_for(state="hidden")
    _, on_server, _ = server_state(world, attempt_id)
    assert {ref: on_server.get(ref) for ref in expected} == expected

    # Reload: everything is still there.
    pg.reload()
    pg.locator("#exam-view").wait_for(state="visible")
    goto_item(pg, first_of["multi"][0])
    checked = pg.locator(".exam-option input:checked").evaluate_all("els => els.map(e => e.value)")
    assert sorted(checked) == expected[items[first_of["multi"][0]]["item_ref"]]
    goto_item(pg, first_of["fill"][0])
    assert pg.locator(".exam-blank-input").first.input_value() == "答案3-0"
    assert real_errors(pg) == []

    # Another computer (empty local buffer): server state wins; the first page's session ends.
    ctx2, pg2 = _context(browser)
    candidate_login(pg2, world.base, cand)
    assert "继续考试" in pg2.locator("#exam-list").inner_text()
    enter_exam(pg2)
    goto_item(pg2, first_of["short"][0])
    assert pg2.locator(".exam-answer-text").input_value() == expected[items[first_of["short"][0]]["item_ref"]]
    goto_item(pg2, first_of["judge"][1])
    assert pg2.locator(".exam-judge-false input").is_checked()  # n=1 → False
    answered = len(expected)

    # Submit: the dialog lists exactly the unanswered items, as runs ("第 3–7 题").
    pg2.click("#submit-btn")
    dialog = pg2.locator("#submit-dialog")
    dialog.wait_for(state="visible")
    chips = pg2.locator(".exam-unanswered .exam-chip")
    unanswered_numbers = set()
    for text in chips.all_inner_texts():
        first, last = re.match(r"第 (\d+)(?:–(\d+))? 题", text).groups()
        unanswered_numbers |= set(range(int(first), int(last or first) + 1))
    assert len(unanswered_numbers) == len(items) - answered
    answered_numbers = {i + 1 for i, it in enumerate(items) if it["item_ref"] in expected}
    assert unanswered_numbers == set(range(1, len(items) + 1)) - answered_numbers
    pg2.click("#submit-confirm")

    # Survey, then thanks.
    pg2.locator("#survey-view").wait_for(state="visible")
    for fs in pg2.locator(".exam-stars").all():
        fs.locator(".exam-star").nth(3).click()
    pg2.fill("#survey-comment", "系统好用，字够大。")
    pg2.click("#survey-submit")
    pg2.locator("#done-view").wait_for(state="visible")
    assert real_errors(pg2) == []

    state, on_server, survey = server_state(world, attempt_id)
    assert state == "submitted"
    assert {ref: on_server.get(ref) for ref in expected} == expected
    assert survey is not None and survey.answers == {f"q{i}": 4 for i in range(1, 6)}
    # The local buffer is gone once the server has everything.
    assert pg2.evaluate(f"() => localStorage.getItem('examsys.exam.buffer.{attempt_id}')") is None

    # The first computer learns that its session was replaced at its next request.
    assert pg.evaluate("() => ExamSys.request('GET', '/candidate/exams').catch(e => e.code)") == "session_replaced"
    ctx2.close()
    ctx.close()


def test_keyboard_only_single_choice(exam_world, browser):
    world, cand = exam_world, exam_world.candidate(1)
    ctx, pg = _context(browser)
    pg.goto(world.base + "/exam/")
    # The ticket field has autofocus (applied at Chromium's next rendering step, which under load
    # can come after the load event): type once it has landed.
    pg.wait_for_function("() => document.activeElement && document.activeElement.id === 'ticket_no'")
    pg.keyboard.type(cand["ticket_no"])
    pg.keyboard.press("Tab")
    pg.keyboard.type(cand["id_number"])
    pg.keyboard.press("Enter")
    start = pg.locator("#exam-list button.exam-btn-primary").first
    start.wait_for()
    assert pg.evaluate("() => document.activeElement.textContent") == "开始考试"
    pg.keyboard.press("Enter")
    pg.wait_for_url("**/exam/app")
    pg.locator("#exam-view").wait_for(state="visible")
    items = paper(pg)
    target = next(i for i, it in enumerate(items) if it["qtype"] == "single")
    for _ in range(target):
        pg.keyboard.press("PageDown")
    pg.locator(".exam-qno").filter(has_text=f"第 {target + 1} 题").wait_for()
    pg.keyboard.press("Tab")  # into the radio group
    assert pg.evaluate("() => document.activeElement.type") == "radio"
    pg.keyboard.press("Space")
    pg.keyboard.press("ArrowDown")  # arrows move and select within the group
    wait_saved(pg)
    opts = items[target]["options"]
    attempt_id = status(pg)["attemptId"]
    _, on_server, _ = server_state(world, attempt_id)
    assert on_server[items[target]["item_ref"]] == opts[1]["value"]
    pg.keyboard.press("d")  # letter keys pick the option shown with that letter
    wait_saved(pg)
    _, on_server, _ = server_state(world, attempt_id)
    shown_d = next(o for o in opts if o["label"] == "D")
    assert on_server[items[target]["item_ref"]] == shown_d["value"]
    # Focus is visible (the focused option gets an outline).
    outline = pg.evaluate("() => getComputedStyle(document.activeElement.closest('label')).outlineStyle")
    assert outline != "none"
    assert real_errors(pg) == []
    ctx.close()


def test_proctor_sees_candidate_progress(exam_world, browser):
    world, cand = exam_world, exam_world.candidate(2)
    pctx, ppg = _context(browser)
    proctor = next(u for u in world.demo["users"] if u["username"] == "proctor")
    staff_login(ppg, world.base, proctor["username"], proctor["password"])
    resp = ppg.goto(f"{world.base}/delivery/proctor/{world.batch_id}")
    assert resp is not None and resp.status == 200
    row = ppg.locator(f"tr[data-entry='{cand['entry_id']}']")
    row.wait_for()
    before = row.locator("[data-field=state]").inner_text()

    ctx, pg = _context(browser)
    candidate_login(pg, world.base, cand)
    enter_exam(pg)
    items = paper(pg)
    goto_item(pg, 0)
    answer(pg, items[0], 0)
    wait_saved(pg)
    # The console polls every few seconds.
    ppg.wait_for_function(
        f"() => document.querySelector(\"tr[data-entry='{cand['entry_id']}'] [data-field=answered]\")"
        ".textContent.trim() === '1'", timeout=15000)
    after = row.locator("[data-field=state]").inner_text()
    assert after != before and "作答" in after
    assert real_errors(pg) == []
    ctx.close()
    pctx.close()
