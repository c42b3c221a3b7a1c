"""Edges of the exam page in a real browser: the server's deadline ends the exam (时间到, answers
locked, handed in automatically, nothing stored after it); hostile text typed as answers comes back
as text and never runs (RELIABILITY 21); integrity signals reach the server (issue 5 point 7)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from examsys import clock
from tests.bank.test_richtext import XSS
from tests.browser.exam_fixtures import exam_world_fixture  # noqa: F401  (provides `exam_world`)
from tests.browser.test_exam_flow import (
    _context,
    answer,
    candidate_login,
    enter_exam,
    goto_item,
    paper,
    real_errors,
    server_state,
    status,
    wait_saved,
)

pytestmark = pytest.mark.browser

# Payloads that would leave a trace if they ran: a dialog, or a flag on window.
TRAPS = [p.replace("alert(1)", "window.__pwned=1") for p in XSS] + [
    "</textarea><img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    "{{7*7}} ${7*7} <%= 7*7 %>",
]


def _storable(text: str) -> str:
    return re.sub("[\x00\ud800-\udfff]", "", text)


def _set_deadline(world, attempt_id: int, seconds_from_now: int) -> None:
    """As if the candidate had started long ago: the deadline comes in a few seconds."""
    from examsys.delivery.models import Attempt
    from examsys.extensions import db

    with world.app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        attempt.deadline_at = clock.now() + timedelta(seconds=seconds_from_now)
        db.session.commit()


def test_time_up_locks_the_page_and_hands_in(exam_world, browser):
    world, cand = exam_world, exam_world.candidate(3)
    ctx, pg = _context(browser)
    candidate_login(pg, world.base, cand)
    enter_exam(pg)
    items = paper(pg)
    attempt_id = status(pg)["attemptId"]
    goto_item(pg, 0)
    before_deadline = answer(pg, items[0], 0)
    wait_saved(pg)

    _set_deadline(world, attempt_id, 6)
    pg.reload()  # the page learns the server's time on load (and from every heartbeat)
    pg.locator("#exam-view").wait_for(state="visible")
    assert pg.evaluate("() => ExamSys.status().remaining") <= 7
    # The server's clock runs out: 时间到, answering locked, the paper handed in without a click.
    pg.wait_for_function("() => document.getElementById('timeup-dialog').open"
                         " || !document.getElementById('survey-view').hidden", timeout=20000)
    pg.locator("#survey-view").wait_for(state="visible", timeout=30000)
    assert pg.locator("#survey-title").inner_text() in ("考试时间到，已自动交卷", "交卷成功")
    state, on_server, _ = server_state(world, attempt_id)
    assert state in ("submitted", "timed_out")
    assert on_server[items[0]["item_ref"]] == before_deadline
    # Nothing gets in afterwards, from this page or any other client.
    late = pg.evaluate("""ref => ExamSys.request('PUT', '/attempts/' + ExamSys.status().attemptId
                                 + '/responses/' + ref, {answer: null, seq: 999}).catch(e => e.code)""",
                       items[0]["item_ref"])
    assert late == "attempt_closed"
    assert server_state(world, attempt_id)[1][items[0]["item_ref"]] == before_deadline
    assert [e for e in real_errors(pg) if "409" not in e] == []  # the refused late save is logged
    ctx.close()


def test_hostile_answers_are_text_and_never_run(exam_world, browser):
    world, cand = exam_world, exam_world.candidate(4)
    ctx, pg = _context(browser)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    candidate_login(pg, world.base, cand)
    csp = pg.request.get(world.base + "/exam/app").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    enter_exam(pg)
    items = paper(pg)
    attempt_id = status(pg)["attemptId"]
    text_index = next(i for i, it in enumerate(items) if it["qtype"] in ("short", "calc"))
    fill_index = next(i for i, it in enumerate(items) if it["qtype"] == "fill")
    essay = "\n".join(TRAPS)
    goto_item(pg, text_index)
    pg.fill(".exam-answer-text", essay)
    goto_item(pg, fill_index)
    blanks = pg.locator(".exam-blank-input")
    typed = [TRAPS[i % len(TRAPS)][:200] for i in range(blanks.count())]
    for i, value in enumerate(typed):
        blanks.nth(i).fill(value)
    wait_saved(pg)
    _, on_server, _ = server_state(world, attempt_id)
    # Stored as typed (it is the candidate's text), less what no database stores (NUL).
    essay, typed = _storable(essay), [_storable(t) for t in typed]
    assert on_server[items[text_index]["item_ref"]] == essay
    assert on_server[items[fill_index]["item_ref"]] == typed

    # Shown again after a reload and from the navigator: as text, in the fields, nothing runs.
    pg.reload()
    pg.locator("#exam-view").wait_for(state="visible")
    goto_item(pg, text_index)
    assert pg.input_value(".exam-answer-text") == essay
    goto_item(pg, fill_index)
    assert [pg.locator(".exam-blank-input").nth(i).input_value() for i in range(len(typed))] == typed
    assert pg.evaluate("() => window.__pwned") is None
    assert pg.locator("#exam-view img[src='x'], #exam-view script:not([src])").count() == 0
    assert dialogs == []
    assert real_errors(pg) == []
    ctx.close()


def test_integrity_signals_reach_the_server(exam_world, browser):
    from examsys.delivery.models import IntegrityEvent
    from examsys.extensions import db

    world, cand = exam_world, exam_world.candidate(5)
    ctx, pg = _context(browser)
    candidate_login(pg, world.base, cand)
    enter_exam(pg)
    attempt_id = status(pg)["attemptId"]
    pg.evaluate("""() => {
        document.dispatchEvent(new Event('copy'));
        const paste = new Event('paste');
        document.dispatchEvent(paste);
    }""")
    kinds: set[str] = set()
    deadline = time.monotonic() + 20  # the page posts its queue every 10 s
    while time.monotonic() < deadline and not {"copy", "paste"} <= kinds:
        time.sleep(0.5)
        with world.app.app_context():
            kinds = set(db.session.scalars(select(IntegrityEvent.kind).where(
                IntegrityEvent.attempt_id == attempt_id, IntegrityEvent.source == "client")))
    assert {"copy", "paste"} <= kinds
    assert real_errors(pg) == []
    ctx.close()


def test_unstorable_characters_are_dropped_before_saving(exam_world, browser):
    """A paste holding NUL or a lone surrogate (which the API refuses with 422: no database stores
    them) is saved without those characters instead of never being saved."""
    world, cand = exam_world, exam_world.candidate(6)  # a candidate of its own: its own attempt
    ctx, pg = _context(browser)
    candidate_login(pg, world.base, cand)
    enter_exam(pg)
    items = paper(pg)
    attempt_id = status(pg)["attemptId"]
    text_index = next(i for i, it in enumerate(items) if it["qtype"] in ("short", "calc"))
    goto_item(pg, text_index)
    pg.evaluate("""() => {
        const box = document.querySelector('.exam-answer-text');
        box.value = '先停电\\u0000再验电\\ud800。😀';
        box.dispatchEvent(new Event('input', {bubbles: true}));
    }""")
    wait_saved(pg)
    _, on_server, _ = server_state(world, attempt_id)
    assert on_server[items[text_index]["item_ref"]] == "先停电再验电。😀"
    assert real_errors(pg) == []
    ctx.close()


def test_a_long_name_does_not_cover_the_navigator(exam_world, browser):
    """A long candidate or exam name stays on one line (cut with an ellipsis, full in its title):
    the sticky header keeps its height, so it never covers the question navigator below it."""
    from examsys.accounts.models import Candidate
    from examsys.delivery.models import RosterEntry
    from examsys.extensions import db

    world, cand = exam_world, exam_world.candidate(9)
    long_name = "阿卜杜热合曼·买买提依明·" * 12
    with world.app.app_context():
        # One statement, a write from the start: a read first would make SQLite refuse the write
        # (database is locked) whenever the live server wrote in between.
        db.session.execute(update(Candidate).values(name=long_name).where(
            Candidate.id == select(RosterEntry.candidate_id).where(RosterEntry.id == cand["entry_id"])
            .scalar_subquery()))
        db.session.commit()
    ctx, pg = _context(browser)
    try:
        candidate_login(pg, world.base, cand)
        enter_exam(pg)
        header = pg.locator("header.exam-top-app").bounding_box()
        nav = pg.locator(".exam-nav-pane").bounding_box()
        assert header["y"] + header["height"] <= nav["y"], (header, nav)
        assert pg.locator("#cand-name").get_attribute("title") == long_name
        who, ticket = pg.locator(".exam-who").bounding_box(), pg.locator("#cand-ticket").bounding_box()
        assert ticket["x"] + ticket["width"] <= who["x"] + who["width"] + 1  # the ticket number shown whole
        pg.click("#nav-1", timeout=5000)  # not intercepted by the header
        pg.locator(".exam-qno").filter(has_text="第 2 题").wait_for()
    finally:
        ctx.close()
